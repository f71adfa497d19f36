/**
 * The own-exchange feed over each bus: the in-process one and NATS JetStream (when the harness
 * has NATS). A real orders service publishes; market data consolidates, builds candles and
 * republishes the consolidated quote (md.quote.*).
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { QuoteMessage } from '../../src/services/market-data/events.ts';
import { mdSubjects } from '../../src/services/market-data/events.ts';
import { createMarketDataService } from '../../src/services/market-data/index.ts';
import { MID, SYMBOL } from '../orders/support/service.ts';
import { forEachBus } from '../support/bus.ts';
import { makePgliteDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import {
  admin,
  eventually,
  INTERNAL_TOKEN,
  logger,
  type MdHarness,
  makeHarness,
  stubUsers,
} from './harness.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

forEachBus('market-data: exchange feed over the bus', (makeBus) => {
  const makeDb = scoped(makePgliteDb);
  let h: MdHarness;
  beforeAll(async () => {
    h = await makeHarness(await makeDb(), { bus: await makeBus() });
  });
  afterAll(async () => h?.close());

  it('consolidates the exchange trades and books and republishes the quote', async () => {
    const quotes: QuoteMessage[] = [];
    const unsubscribe = await h.bus.subscribe<QuoteMessage>(mdSubjects.allQuotes, (m) => quotes.push(m.data));
    try {
      await h.orders.client.submitOrder('bob', {
        symbol: SYMBOL,
        side: 'sell',
        type: 'limit',
        tif: 'gtc',
        qty: 20,
        price: MID + 1,
      });
      await h.orders.client.submitOrder('alice', {
        symbol: SYMBOL,
        side: 'buy',
        type: 'limit',
        tif: 'gtc',
        qty: 5,
        price: MID + 1,
      });
      await eventually(async () =>
        expect((await h.md.client.latestTrade(SYMBOL)).trade).toMatchObject({ p: 100.01, s: 5 }),
      );
      await eventually(async () =>
        expect((await h.md.client.latestQuote(SYMBOL)).quote).toMatchObject({ ap: 100.01, as: 15 }),
      );
      await h.md.step();
      await eventually(() =>
        expect(quotes.at(-1)).toMatchObject({ symbol: SYMBOL, ask: 100.01, askSize: 15, source: 'exchange' }),
      );
      await h.md.flush();
      const { rows } = await h.db.query<{ volume: number }>(
        "SELECT volume FROM md_candles WHERE symbol = $1 AND timeframe = '1m'",
        [SYMBOL],
      );
      expect(rows).toEqual([{ volume: 5 }]);
    } finally {
      await unsubscribe();
    }
  });

  it('reloads the feeds on every instance when an admin changes them on one', async () => {
    const other = await createMarketDataService({
      db: h.db,
      bus: h.bus,
      clock: h.clock,
      logger,
      orders: h.orders.client,
      users: stubUsers(new Map()),
      internalToken: INTERNAL_TOKEN,
      config: { timers: false },
    });
    try {
      const res = await h.req(
        {
          method: 'POST',
          url: '/v1/market-data/feeds',
          payload: {
            id: 'sim2',
            kind: 'simulated',
            config: { symbols: [{ symbol: 'SIMB', price: 10 }], ratePerSec: 5, seed: 1 },
          },
        },
        admin,
      );
      expect(res.statusCode, res.body).toBe(201);
      await eventually(async () =>
        expect((await other.client.instruments()).instruments.map((i) => i.symbol)).toContain('SIMB'),
      );
      expect((await other.client.latestQuote('SIMB')).quote.x).toBe('sim2');
    } finally {
      await other.close();
    }
  });
});

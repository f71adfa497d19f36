/**
 * Candles survive a restart: close() writes what is in memory, and a new instance continues the
 * candles of the current buckets from the table instead of overwriting them with a partial one.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createMarketDataService } from '../../src/services/market-data/index.ts';
import type { Tick } from '../../src/services/market-data/model.ts';
import { SYMBOL } from '../orders/support/service.ts';
import { forEachDb } from '../support/db.ts';
import { INTERNAL_TOKEN, logger, type MdHarness, makeHarness, stubUsers, T0 } from './harness.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const trade = (seq: number, price: number, size: number, ts: number): Tick => ({
  type: 'trade',
  source: 'exchange',
  symbol: SYMBOL,
  ts,
  seq,
  price,
  size,
  bid: 0,
  bidSize: 0,
  ask: 0,
  askSize: 0,
});

forEachDb('market-data: restart', (makeDb) => {
  let h: MdHarness;
  beforeAll(async () => {
    h = await makeHarness(await makeDb());
  });
  afterAll(async () => h?.close());

  it('writes candles on close and continues them after a restart', async () => {
    const minute = T0 - (T0 % 60_000);
    h.md.ingest(trade(1, 10, 100, minute + 1_000));
    h.md.ingest(trade(2, 12, 100, minute + 2_000));
    await h.md.close(); // no explicit flush: close writes
    const stored = await h.db.query<{ volume: number }>(
      "SELECT volume FROM md_candles WHERE symbol = $1 AND timeframe = '1m'",
      [SYMBOL],
    );
    expect(stored.rows).toEqual([{ volume: 200 }]);

    const again = await createMarketDataService({
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
      again.ingest(trade(3, 9, 50, minute + 3_000));
      await again.flush();
      const { rows } = await h.db.query<Record<string, unknown>>(
        "SELECT open, high, low, close, volume, trades, vwap FROM md_candles WHERE symbol = $1 AND timeframe = '1m'",
        [SYMBOL],
      );
      expect(rows).toEqual([
        {
          open: '10.000000',
          high: '12.000000',
          low: '9.000000',
          close: '9.000000',
          volume: 250,
          trades: 3,
          vwap: ((10 * 100 + 12 * 100 + 9 * 50) / 250).toFixed(6),
        },
      ]);
    } finally {
      await again.close();
    }
  });
});

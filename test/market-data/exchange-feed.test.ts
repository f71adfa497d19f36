/**
 * The own-exchange feed against a real orders service: trades and books from its bus events
 * (cents → dollars), the book rebuilt from its depth, duplicates and stale redeliveries dropped
 * and counted, candles written to md_candles. On PGlite and PostgreSQL.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { TradeMessage } from '../../src/services/orders/events.ts';
import { MID, SYMBOL } from '../orders/support/service.ts';
import { forEachDb } from '../support/db.ts';
import { admin, eventually, type MdHarness, makeHarness } from './harness.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

forEachDb('market-data: exchange feed', (makeDb) => {
  let h: MdHarness;
  beforeAll(async () => {
    h = await makeHarness(await makeDb());
  });
  afterAll(async () => h?.close());

  it('turns trades and book changes into the consolidated trade, quote and depth', async () => {
    const { orders, md } = h;
    await orders.client.submitOrder('bob', {
      symbol: SYMBOL,
      side: 'sell',
      type: 'limit',
      tif: 'gtc',
      qty: 100,
      price: MID + 10,
    });
    await orders.client.submitOrder('alice', {
      symbol: SYMBOL,
      side: 'buy',
      type: 'limit',
      tif: 'gtc',
      qty: 30,
      price: MID + 10,
    });
    await orders.client.submitOrder('alice', {
      symbol: SYMBOL,
      side: 'buy',
      type: 'limit',
      tif: 'gtc',
      qty: 10,
      price: MID + 10,
    });
    await orders.client.submitOrder('alice', {
      symbol: SYMBOL,
      side: 'buy',
      type: 'limit',
      tif: 'gtc',
      qty: 10,
      price: MID - 10,
    });

    const trade = await eventually(async () => {
      const t = await md.client.latestTrade(SYMBOL);
      expect(t.trade).toMatchObject({ p: 100.1, s: 10, x: 'exchange' });
      return t;
    });
    expect(Date.parse(trade.trade.t)).toBeGreaterThan(0);
    await eventually(async () =>
      expect((await md.client.latestQuote(SYMBOL)).quote).toMatchObject({
        bp: 99.9,
        bs: 10,
        ap: 100.1,
        as: 60,
        x: 'exchange',
      }),
    );
    const depth = await md.client.depth(SYMBOL, 5);
    expect(depth).toMatchObject({
      symbol: SYMBOL,
      bids: [{ price: 99.9, qty: 10 }],
      asks: [{ price: 100.1, qty: 60 }],
      source: 'exchange',
    });
    // the exchange's own view agrees
    const committed = await orders.client.depth(SYMBOL, 5);
    expect(committed.asks.map((l) => [l.price / 100, l.qty])).toEqual(
      depth.asks.map((l) => [l.price, l.qty]),
    );
  });

  it('resynchronises a book from the exchange depth when a change leaves it crossed', async () => {
    const { md, bus, orders } = h;
    // a bogus change (as if a message had been lost): a bid far above the best ask
    await bus.publish(`md.book.${SYMBOL}`, {
      seq: 1_000_000_000,
      ts: 1,
      symbol: SYMBOL,
      levels: [{ side: 'buy', price: MID * 2, qty: 5, orders: 1 }],
    });
    await orders.client.submitOrder('alice', {
      symbol: SYMBOL,
      side: 'buy',
      type: 'limit',
      tif: 'gtc',
      qty: 7,
      price: MID - 5,
    });
    await eventually(async () =>
      expect((await md.client.latestQuote(SYMBOL)).quote).toMatchObject({ bp: 99.95, bs: 7, ap: 100.1 }),
    );
    const depth = await md.client.depth(SYMBOL, 10);
    expect(depth.bids).toEqual([
      { price: 99.95, qty: 7 },
      { price: 99.9, qty: 10 },
    ]);
    expect(depth.source).toBe('exchange');
  });

  it('drops a redelivered and an older trade, counts them, and keeps them out of candles', async () => {
    const { md, bus, db } = h;
    const tape = await h.orders.client.symbolTrades(SYMBOL, { limit: 1 });
    const last = tape.items[0]!;
    const msg: TradeMessage = {
      seq: 1,
      tradeId: last.tradeId,
      ts: last.ts,
      symbol: SYMBOL,
      price: last.price,
      qty: last.qty,
      aggressor: 'buy',
    };
    await bus.publish(`md.trade.${SYMBOL}`, msg);
    await bus.publish(`md.trade.${SYMBOL}`, { ...msg, tradeId: last.tradeId - 1, price: 1 });
    const res = await eventually(async () => {
      const r = await h.req({ method: 'GET', url: '/v1/market-data/feeds/status' }, admin);
      const feed = (
        r.json() as { feeds: { id: string; duplicates: number; outOfOrder: number }[] }
      ).feeds.find((f) => f.id === 'exchange');
      expect(feed).toMatchObject({ duplicates: 1, outOfOrder: 1 });
      return r;
    });
    expect(res.statusCode).toBe(200);
    expect((await md.client.latestTrade(SYMBOL)).trade.p).toBe(100.1);

    await md.flush();
    const { rows } = await db.query<{
      timeframe: string;
      open: string;
      volume: number;
      trades: number;
      source: string;
    }>(
      'SELECT timeframe, open, volume, trades, source FROM md_candles WHERE symbol = $1 ORDER BY timeframe',
      [SYMBOL],
    );
    expect(rows.map((r) => r.timeframe).sort()).toEqual(['15m', '1d', '1h', '1m', '5m']);
    for (const r of rows)
      expect(r).toMatchObject({ open: '100.100000', volume: 40, trades: 2, source: 'exchange' });

    const bars = await md.client.bars(SYMBOL, {
      timeframe: '1Min',
      start: new Date(last.ts - 3_600_000).toISOString(),
    });
    expect(bars.bars).toEqual([
      {
        t: new Date(last.ts - (last.ts % 60_000)).toISOString(),
        o: 100.1,
        h: 100.1,
        l: 100.1,
        c: 100.1,
        v: 40,
        vw: 100.1,
        n: 2,
      },
    ]);
  });

  it('writes the same candles again without changing them (idempotent upsert)', async () => {
    const { md, db } = h;
    const before = await db.query('SELECT * FROM md_candles ORDER BY timeframe');
    const tape = await h.orders.client.symbolTrades(SYMBOL, { limit: 1 });
    // a second instance that saw the same trades writes the same rows
    const { upsertBars } = await import('../../src/services/market-data/candles/store.ts');
    const rows = before.rows as { timeframe: string }[];
    expect(rows.length).toBe(5);
    const t = tape.items[0]!.ts;
    await upsertBars(db, [
      {
        symbol: SYMBOL,
        timeframe: '1m',
        t: t - (t % 60_000),
        o: 100.1,
        h: 100.1,
        l: 100.1,
        c: 100.1,
        v: 40,
        vw: 100.1,
        n: 2,
        source: 'exchange',
      },
    ]);
    await md.flush();
    const after = await db.query('SELECT * FROM md_candles ORDER BY timeframe');
    expect(after.rows).toEqual(before.rows);
  });
});

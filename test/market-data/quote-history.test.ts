/**
 * The quote history (md_quotes, migration 012) on PGlite and PostgreSQL: buffered quotes written by
 * flush, the same key twice in one batch keeps the last, reads in range and order with a limit,
 * and pruning by age.
 */
import { expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.ts';
import type { Quote } from '../../src/services/market-data/model.ts';
import { createQuoteHistory, QUOTE_HISTORY_MS } from '../../src/services/market-data/quote-history.ts';
import { forEachDb } from '../support/db.ts';

const T0 = Date.parse('2026-03-02T15:00:00Z');
const quote = (ts: number, bid: number, symbol = 'ACME'): Quote => ({
  symbol,
  bid,
  bidSize: 100,
  ask: bid + 0.01,
  askSize: 200,
  ts,
  source: 'exchange',
});

forEachDb('market data: quote history', (makeDb) => {
  it('records, flushes, reads in range and order, and prunes', async () => {
    const db = await makeDb();
    const history = createQuoteHistory(db, createLogger({ level: 'silent' }));
    for (let i = 0; i < 5; i++) history.record(quote(T0 + i * 1000, 10 + i));
    // the same key again in the same batch: the last one is kept
    history.record(quote(T0 + 4000, 20.5));
    history.record(quote(T0, 99, 'BOLT'));
    expect(await history.read('ACME', { limit: 10 })).toEqual([]);
    await history.flush();

    const all = await history.read('ACME', { limit: 10 });
    expect(all.map((q) => q.bp)).toEqual([10, 11, 12, 13, 20.5]);
    expect(all[0]).toEqual({
      t: new Date(T0).toISOString(),
      bp: 10,
      bs: 100,
      ap: 10.01,
      as: 200,
      x: 'exchange',
    });
    const window = await history.read('ACME', { from: T0 + 1000, to: T0 + 3000, limit: 10 });
    expect(window.map((q) => q.bp)).toEqual([11, 12]);
    const newest = await history.read('ACME', { sort: 'desc', limit: 2 });
    expect(newest.map((q) => q.bp)).toEqual([20.5, 13]);
    expect((await history.read('BOLT', { limit: 10 })).map((q) => q.bp)).toEqual([99]);

    // a second flush with nothing new writes nothing; a repeat of a stored key updates it
    await history.flush();
    history.record(quote(T0, 10.5));
    await history.flush();
    expect((await history.read('ACME', { limit: 1 }))[0]?.bp).toBe(10.5);

    await history.prune(T0 + QUOTE_HISTORY_MS + 2500);
    expect((await history.read('ACME', { limit: 10 })).map((q) => q.bp)).toEqual([13, 20.5]);
    expect(await history.read('BOLT', { limit: 10 })).toEqual([]);
  });
});

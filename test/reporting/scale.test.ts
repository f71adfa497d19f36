/**
 * Statements over more fills than one keyset page, with self-trades and equal timestamps at the
 * page boundaries, and the plan of the page query: it reads both sides of the trades table by
 * their (account, ts, id) indexes, on PGlite and PostgreSQL.
 */
import type { FastifyInstance } from 'fastify';
import { beforeAll, expect, it, vi } from 'vitest';
import type { Db } from '../../src/platform/db/types.ts';
import { centsOf } from '../../src/services/reporting/format.ts';
import { FILLS_PAGE_SQL } from '../../src/services/reporting/queries.ts';
import { forEachDb } from '../support/db.ts';
import { as, type Body, fakeUsers, get, getJson, insertCash, reportingApp, user } from './support.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const N = 3000;

forEachDb('reporting: statements larger than a page', (makeDb) => {
  let db: Db;
  let app: FastifyInstance;
  beforeAll(async () => {
    db = await makeDb();
    await insertCash(db, {
      ts: '2026-03-31T12:00:00Z',
      account: 'P',
      kind: 'deposit',
      amount: 1_000_000_000,
    });
    // three trades per millisecond; P buys every third, sells every second (every sixth is a self-trade)
    await db.query(
      `INSERT INTO trades (id, seq, ts, symbol, price, qty, buy_order_id, sell_order_id, buy_account, sell_account,
                           aggressor, buy_fee, sell_fee)
       SELECT g, g, '2026-04-01T00:00:00Z'::timestamptz + (g / 3) * interval '1 millisecond', 'SYM', 100 + g % 7, 1 + g % 3,
              g, g, CASE WHEN g % 3 = 0 THEN 'P' ELSE 'Q' END, CASE WHEN g % 2 = 0 THEN 'P' ELSE 'Q' END,
              'buy', g % 5, g % 4
         FROM generate_series(1, ${N}) AS g`,
    );
    app = await reportingApp(db, fakeUsers([user('P')]), { now: () => Date.parse('2026-04-02T00:00:00Z') });
  });

  it('lists every fill once, in (time, id, side) order, and still reconciles', async () => {
    const s = await getJson<Body>(app, '/v1/reports/statement?from=2026-04-01&to=2026-04-01', as('P'));
    const buys = Math.floor(N / 3);
    const sells = Math.floor(N / 2);
    expect(s.trades).toHaveLength(buys + sells);
    const keys = s.trades.map((t: Body) => `${t.time}|${String(t.trade_id).padStart(6, '0')}|${t.side}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual(keys);
    expect(s.trades.filter((t: Body) => t.side === 'buy')).toHaveLength(buys);
    const net = s.trades.reduce((x: number, t: Body) => x + centsOf(t.net_amount), 0);
    expect(centsOf(s.opening_cash) + net).toBe(centsOf(s.closing_cash));
    expect(s.totals.reconciled).toBe(true);
    const { rows } = await db.query<{ cash: number }>(
      `SELECT (1000000000 + coalesce(sum(CASE WHEN sell_account = 'P' THEN price * qty - sell_fee ELSE 0 END), 0)
                         - coalesce(sum(CASE WHEN buy_account = 'P' THEN price * qty + buy_fee ELSE 0 END), 0))::int8 AS cash
         FROM trades`,
    );
    expect(centsOf(s.closing_cash)).toBe(rows[0]!.cash);

    const csv = await get(app, '/v1/reports/statement?from=2026-04-01&to=2026-04-01&format=csv', as('P'));
    expect(csv.body.split('\r\n').filter((l) => l.startsWith('trade,'))).toHaveLength(buys + sells);
  });

  it('reads both sides of the trades table through their (account, ts, id) indexes', async () => {
    const plan = await db.transaction(async (tx) => {
      // the table is small enough for a sequential scan to win; what matters is that the index can serve
      await tx.query('SET LOCAL enable_seqscan = off');
      const { rows } = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${FILLS_PAGE_SQL}`, [
        'P',
        '2026-04-01T00:00:00.500Z',
        1500,
        1499,
        '2026-04-02T00:00:00Z',
        null,
      ]);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('trades_buy_account_ts');
    expect(plan).toContain('trades_sell_account_ts');
    // the cursor is an index condition, not a filter over the rows before it
    expect(plan.match(/Index Cond: .*ROW\(ts, id\) > ROW/g)).toHaveLength(2);
  });
});

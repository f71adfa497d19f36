/**
 * Statement and positions after a real trading sequence through the orders service (deposits,
 * buys, sells, fees, a withdrawal over four days), on PGlite and PostgreSQL: the statement
 * reconciles to the cent with the orders service's own balance, FIFO P&L matches hand-computed
 * numbers, CSV parses back to the JSON, the PDF is a PDF, and identity decides whose report it is.
 */
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createMemoryBus } from '../../src/platform/bus/memory.ts';
import type { Db } from '../../src/platform/db/types.ts';
import type { OrdersClient, OrdersService } from '../../src/services/orders/index.ts';
import { createOrdersService } from '../../src/services/orders/index.ts';
import { parseCsv } from '../../src/services/reporting/csv.ts';
import { centsOf } from '../../src/services/reporting/format.ts';
import { forEachDb } from '../support/db.ts';
import { as, fakeUsers, get, getJson, logger, pdfPages, reportingApp, user } from './support.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const D1 = '2026-01-05';
const D2 = '2026-01-06';
const D3 = '2026-01-07';
const D4 = '2026-01-08';

/** Strictly increasing time that a test can move to the start of a day. */
function dayClock() {
  let t = Date.parse(`${D1}T10:00:00Z`);
  return {
    now: () => (t += 1),
    day: (d: string) => {
      t = Math.max(t, Date.parse(`${d}T10:00:00Z`));
    },
  };
}

const limit = (side: 'buy' | 'sell', qty: number, price: number, tif: 'gtc' | 'ioc' = 'gtc') =>
  ({ symbol: 'ACME', side, type: 'limit', tif, qty, price }) as const;

async function trade(db: Db): Promise<{ orders: OrdersService; client: OrdersClient; now: () => number }> {
  const clock = dayClock();
  const orders = await createOrdersService({ db, bus: createMemoryBus({ logger }), clock, logger });
  const c = orders.client;
  await c.addInstrument({
    symbol: 'ACME',
    tickSize: 1,
    lotSize: 1,
    minQty: 1,
    maxQty: 1_000_000,
    priceBandBps: 0,
    collarBps: 1000,
    referencePrice: 10_000,
  });
  // day 1: alice deposits $10,000 and buys 60 @ 100.00 as taker (fee 3 bp = 180)
  await c.deposit('alice', { amount: 1_000_000 });
  await c.deposit('bob', { amount: 100_000_000 });
  await c.transferShares('bob', { symbol: 'ACME', qty: 1000, cost: 1000 * 9_000 });
  await c.submitOrder('bob', limit('sell', 100, 10_000));
  expect((await c.submitOrder('alice', limit('buy', 60, 10_000, 'ioc'))).order.fees).toBe(180);
  // day 2: deposit $500, buy 40 more @ 100.00 (fee 120)
  clock.day(D2);
  await c.deposit('alice', { amount: 50_000 });
  expect((await c.submitOrder('alice', limit('buy', 40, 10_000, 'ioc'))).order.fees).toBe(120);
  // day 3: sell 30 @ 101.50 into bob's bid (fee floor(91.35) = 91), withdraw $1,000
  clock.day(D3);
  await c.submitOrder('bob', limit('buy', 30, 10_150));
  expect((await c.submitOrder('alice', limit('sell', 30, 10_150, 'ioc'))).order.fees).toBe(91);
  await c.withdraw('alice', { amount: 100_000 });
  // day 4: sell 20 @ 99.99 (fee floor(59.994) = 59); carol buys 1 share 70 times (a long statement)
  clock.day(D4);
  await c.submitOrder('bob', limit('buy', 20, 9_999));
  expect((await c.submitOrder('alice', limit('sell', 20, 9_999, 'ioc'))).order.fees).toBe(59);
  await c.deposit('carol', { amount: 10_000_000 });
  await c.submitOrder('bob', limit('sell', 70, 10_010));
  for (let i = 0; i < 70; i++) await c.submitOrder('carol', limit('buy', 1, 10_010, 'ioc'));
  return { orders, client: c, now: clock.now };
}

interface Statement {
  opening_cash: string;
  closing_cash: string;
  totals: Record<string, string | number | boolean>;
  opening_positions: { symbol: string; qty: number }[];
  closing_positions: { symbol: string; qty: number; mark: string | null; market_value: string | null }[];
  cash_movements: { seq: number; time: string; kind: string; amount: string }[];
  trades: {
    trade_id: number;
    time: string;
    symbol: string;
    side: string;
    qty: number;
    price: string;
    fee: string;
    net_amount: string;
  }[];
}

forEachDb('reporting: statements and positions after real trades', (makeDb) => {
  let db: Db;
  let app: FastifyInstance;
  let client: OrdersClient;
  const alice = as('alice');

  beforeAll(async () => {
    db = await makeDb();
    const traded = await trade(db);
    client = traded.client;
    await traded.orders.close();
    const users = fakeUsers([user('alice'), user('bob'), user('carol')]);
    app = await reportingApp(db, users, { now: () => Date.parse(`${D4}T23:00:00Z`) });
  });

  it('reconciles a statement to the cent, and to the orders service’s own balance', async () => {
    const s = await getJson<Statement>(app, `/v1/reports/statement?from=${D2}&to=${D3}`, alice);
    // by hand: day 1 left 1,000,000 − 600,000 − 180
    expect(centsOf(s.opening_cash)).toBe(399_820);
    expect(s.totals).toMatchObject({
      deposits: '500.00',
      withdrawals: '1000.00',
      buys: '4000.00',
      sells: '3045.00',
      fees: '2.11',
      trades: 2,
      cash_movements: 2,
      reconciled: true,
    });
    expect(centsOf(s.closing_cash)).toBe(399_820 + 50_000 - 400_120 + 304_409 - 100_000);
    expect(s.opening_positions).toEqual([{ symbol: 'ACME', qty: 60 }]);
    expect(s.closing_positions).toEqual([
      { symbol: 'ACME', qty: 70, mark: '101.50', market_value: '7105.00' },
    ]);
    expect(s.cash_movements.map((m) => [m.kind, m.amount])).toEqual([
      ['deposit', '500.00'],
      ['withdraw', '1000.00'],
    ]);
    expect(s.trades.map((t) => [t.side, t.qty, t.price, t.fee, t.net_amount])).toEqual([
      ['buy', 40, '100.00', '1.20', '-4001.20'],
      ['sell', 30, '101.50', '0.91', '3044.09'],
    ]);
    // the identity: opening + deposits − withdrawals − buys − fees + sells == closing, from the lines
    const lines =
      centsOf(s.opening_cash) +
      s.cash_movements.reduce((x, m) => x + (m.kind === 'deposit' ? 1 : -1) * centsOf(m.amount), 0) +
      s.trades.reduce((x, t) => x + centsOf(t.net_amount), 0);
    expect(lines).toBe(centsOf(s.closing_cash));

    // the whole history closes at exactly what the orders service holds
    const all = await getJson<Statement>(app, `/v1/reports/statement?from=${D1}&to=${D4}`, alice);
    expect(centsOf(all.opening_cash)).toBe(0);
    expect(centsOf(all.closing_cash)).toBe((await client.balance('alice')).cash);
    expect(all.trades).toHaveLength(4);
    const positions = await client.positions('alice');
    expect(all.closing_positions.map((p) => [p.symbol, p.qty])).toEqual(
      positions.map((p) => [p.symbol, p.qty]),
    );
    // bob's statement lists his transfer in, and his shares reconcile: opening + bought − sold + moved = closing
    const bob = await getJson<
      Statement & { share_transfers: { symbol: string; qty: number; cost: string }[] }
    >(app, `/v1/reports/statement?from=${D1}&to=${D4}`, as('bob'));
    expect(bob.share_transfers).toMatchObject([{ symbol: 'ACME', qty: 1000, cost: '90000.00' }]);
    const moved = bob.trades.reduce((q, t) => q + (t.side === 'buy' ? t.qty : -t.qty), 1000);
    expect(bob.closing_positions).toMatchObject([{ symbol: 'ACME', qty: moved }]);
    expect(moved).toBe((await client.positions('bob'))[0]!.qty);
    const carol = await getJson<Statement>(app, `/v1/reports/statement?from=${D1}&to=${D4}`, as('carol'));
    expect(carol.trades).toHaveLength(70);
    expect(centsOf(carol.closing_cash)).toBe((await client.balance('carol')).cash);
  });

  it('values FIFO lots and realised / unrealised P&L as computed by hand', async () => {
    const p = await getJson<{
      positions: Record<string, unknown>[];
      totals: Record<string, string>;
    }>(app, '/v1/reports/positions', alice);
    // lots: 60 @ 100.00 (cost 600,180), 40 @ 100.00 (400,120)
    // sell 30: proceeds 304,409 − cost floor(600,180 × 30 / 60) = 300,090 → +4,319
    // sell 20: proceeds 199,921 − cost floor(300,090 × 20 / 30) = 200,060 → −139
    // left: 10 (cost 100,030) + 40 (400,120); mark = last trade (carol's) 100.10 → 500,500 − 500,150 = +350
    expect(p.positions).toEqual([
      {
        symbol: 'ACME',
        qty: 50,
        cost: '5001.50',
        average_cost: '100.0300',
        mark: '100.10',
        market_value: '5005.00',
        realised_pnl: '41.80',
        unrealised_pnl: '3.50',
        lots: [
          { opened_at: expect.stringMatching(/^2026-01-05T/), qty: 10, price: '100.00', cost: '1000.30' },
          { opened_at: expect.stringMatching(/^2026-01-06T/), qty: 40, price: '100.00', cost: '4001.20' },
        ],
      },
    ]);
    expect(p.totals).toEqual({
      cost: '5001.50',
      market_value: '5005.00',
      realised_pnl: '41.80',
      unrealised_pnl: '3.50',
    });
  });

  it('streams CSV that parses back to the JSON numbers', async () => {
    const url = `/v1/reports/statement?from=${D2}&to=${D4}`;
    const json = await getJson<Statement>(app, url, alice);
    const res = await get(app, `${url}&format=csv`, alice);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const [header, ...rows] = parseCsv(res.body);
    expect(header).toEqual(['record', 'time', 'id', 'symbol', 'side', 'qty', 'price', 'fee', 'amount']);
    const col = (r: string[], name: string) => r[header!.indexOf(name)]!;
    const of = (record: string) => rows.filter((r) => col(r, 'record') === record);
    expect(col(of('opening_cash')[0]!, 'amount')).toBe(json.opening_cash);
    expect(col(of('closing_cash')[0]!, 'amount')).toBe(json.closing_cash);
    expect(
      of('trade').map((r) => ({
        trade_id: Number(col(r, 'id')),
        time: col(r, 'time'),
        symbol: col(r, 'symbol'),
        side: col(r, 'side'),
        qty: Number(col(r, 'qty')),
        price: col(r, 'price'),
        fee: col(r, 'fee'),
        net_amount: col(r, 'amount'),
      })),
    ).toEqual(json.trades);
    expect([...of('deposit'), ...of('withdraw')].map((r) => centsOf(col(r, 'amount'))).sort()).toEqual(
      json.cash_movements.map((m) => centsOf(m.amount)).sort(),
    );
    expect(col(of('total_fees')[0]!, 'amount')).toBe(json.totals.fees);

    const pos = await get(app, '/v1/reports/positions?format=csv', alice);
    const [ph, ...prow] = parseCsv(pos.body);
    expect(prow[0]![ph!.indexOf('realised_pnl')]).toBe('41.80');
    expect(prow[0]![ph!.indexOf('unrealised_pnl')]).toBe('3.50');
  });

  it('renders a PDF that runs over several pages for a long statement', async () => {
    const long = await get(app, `/v1/reports/statement?from=${D1}&to=${D4}&format=pdf`, as('carol'));
    expect(long.statusCode).toBe(200);
    expect(long.headers['content-type']).toBe('application/pdf');
    expect(long.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdfPages(long.rawPayload)).toBeGreaterThan(1);
    const short = await get(app, `/v1/reports/statement?from=${D3}&to=${D3}&format=pdf`, alice);
    expect(short.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdfPages(short.rawPayload)).toBe(1);
    const positions = await get(app, '/v1/reports/positions?format=pdf', alice);
    expect(positions.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
  });

  describe('who sees what', () => {
    it('answers for the account in the identity headers, whatever the query names', async () => {
      const bob = await getJson<Statement>(
        app,
        `/v1/reports/statement?from=${D1}&to=${D4}&account_id=alice`,
        as('bob'),
      );
      expect(centsOf(bob.closing_cash)).toBe((await client.balance('bob')).cash);
      expect(bob.trades).toHaveLength(4 + 70);
      const mine = await getJson<Statement>(app, `/v1/reports/statement?from=${D1}&to=${D4}`, alice);
      expect(bob.closing_cash).not.toBe(mine.closing_cash);
      // an outsider with no account activity sees an empty statement, not alice's
      const eve = await getJson<Statement>(
        app,
        `/v1/reports/statement?from=${D1}&to=${D4}&account_id=alice`,
        as('eve'),
      );
      expect(eve).toMatchObject({
        opening_cash: '0.00',
        closing_cash: '0.00',
        trades: [],
        cash_movements: [],
      });
    });

    it('401 without an identity, or with the wrong internal token', async () => {
      const none = await get(app, `/v1/reports/statement?from=${D1}&to=${D4}`, null);
      expect(none.statusCode).toBe(401);
      expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
      const forged = await app.inject({
        method: 'GET',
        url: '/v1/reports/positions',
        headers: {
          'x-bourse-internal-token': 'wrong',
          'x-bourse-user-id': 'alice',
          'x-bourse-role': 'admin',
          'x-bourse-account-id': 'alice',
        },
      });
      expect(forged.statusCode).toBe(401);
      // 401 comes before validation: a bad query without identity says nothing about the query
      expect((await get(app, '/v1/reports/statement?from=nope', null)).statusCode).toBe(401);
    });

    it('400 problem+json naming the bad field', async () => {
      const cases: [string, string][] = [
        ['/v1/reports/statement?from=2026-1-5', 'from'],
        ['/v1/reports/statement?from=2026-02-30', 'from'],
        ['/v1/reports/statement?from=2026-01-08&to=2026-01-05', 'from'],
        ['/v1/reports/statement?to=2026-13-01', 'to'],
        ['/v1/reports/statement?format=xml', 'format'],
        ['/v1/reports/statement?colour=red', 'colour'],
        ['/v1/reports/performance?risk_free=abc', 'risk_free'],
        ['/v1/reports/performance?benchmark=spy!', 'benchmark'],
        ['/v1/reports/market/ACME?timeframe=2d', 'timeframe'],
        ['/v1/reports/market/ACME?timeframe=1m&from=2020-01-01&to=2026-01-01', 'timeframe'],
        ['/v1/reports/market/acme', 'symbol'],
      ];
      for (const [url, field] of cases) {
        const res = await get(app, url, alice);
        expect(res.statusCode, url).toBe(400);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        const body = res.json() as { errors: { field: string }[]; detail: string };
        expect(body.errors[0]!.field, url).toBe(field);
        expect(body.detail).toContain(field);
      }
    });
  });
});

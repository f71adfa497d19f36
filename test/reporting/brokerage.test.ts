/**
 * Brokerage reports on PGlite and PostgreSQL: a broker sees their own brokerage's clients only
 * (another brokerage's broker gets 403 for the report and 404 for the client), investors get 403,
 * admins name the brokerage; the figures match hand-computed ones; CSV parses back to the JSON.
 */
import type { FastifyInstance } from 'fastify';
import { beforeAll, expect, it, vi } from 'vitest';
import type { Db } from '../../src/platform/db/types.ts';
import { httpReportingClient, ReportingApiError } from '../../src/services/reporting/client.ts';
import { parseCsv } from '../../src/services/reporting/csv.ts';
import { injectFetch } from '../orders/support/http.ts';
import { forEachDb } from '../support/db.ts';
import {
  as,
  type Body,
  ensureCandles,
  fakeUsers,
  get,
  getJson,
  insertCash,
  insertTrade,
  pdfPages,
  reportingApp,
  TOKEN,
  user,
} from './support.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const D1 = '2026-02-02';
const D2 = '2026-02-03';
const PERIOD = `from=${D1}&to=${D2}`;

const users = fakeUsers([
  user('b1', 'broker', 'B1'),
  user('c1', 'investor', 'B1'),
  user('c2', 'investor', 'B1'),
  user('c4', 'investor', 'B1'),
  user('b2', 'broker', 'B2'),
  user('c3', 'investor', 'B2'),
  user('adm', 'admin', null),
]);
const b1 = as('b1', 'broker', 'B1');
const b2 = as('b2', 'broker', 'B2');
const admin = as('adm', 'admin', null);

async function fixture(db: Db): Promise<void> {
  await ensureCandles(db);
  await insertCash(db, { ts: `${D1}T09:00:00Z`, account: 'c1', kind: 'deposit', amount: 10_000_000 });
  await insertCash(db, { ts: `${D1}T09:00:00Z`, account: 'c2', kind: 'deposit', amount: 5_000_000 });
  await insertCash(db, { ts: `${D1}T09:00:00Z`, account: 'c3', kind: 'deposit', amount: 100_000 });
  await insertTrade(db, {
    ts: `${D1}T10:00:00Z`,
    symbol: 'ABC',
    price: 1_000,
    qty: 100,
    buyer: 'c1',
    seller: 'MM',
    buyFee: 30,
  });
  await insertTrade(db, {
    ts: `${D1}T11:00:00Z`,
    symbol: 'ABC',
    price: 1_100,
    qty: 10,
    buyer: 'c2',
    seller: 'MM',
    buyFee: 3,
  });
  await insertTrade(db, {
    ts: `${D2}T10:00:00Z`,
    symbol: 'ABC',
    price: 1_200,
    qty: 40,
    buyer: 'MM',
    seller: 'c1',
    sellFee: 14,
  });
  await insertTrade(db, {
    ts: `${D2}T13:00:00Z`,
    symbol: 'ABC',
    price: 1_200,
    qty: 5,
    buyer: 'c3',
    seller: 'MM',
    buyFee: 2,
  });
}

forEachDb('reporting: brokerage reports', (makeDb) => {
  let app: FastifyInstance;
  let bps: FastifyInstance;
  beforeAll(async () => {
    const db = await makeDb();
    await fixture(db);
    const clock = { now: () => Date.parse('2026-02-10T00:00:00Z') };
    app = await reportingApp(db, users, clock);
    bps = await reportingApp(db, users, clock, { commissionBps: 10 });
  });

  it('gives a broker their clients’ figures, computed by hand', async () => {
    const r = await getJson<Body>(app, `/v1/reports/brokerage?${PERIOD}`, b1);
    expect(r.brokerage_id).toBe('B1');
    expect(r.commission_basis).toBe('exchange_fees_paid');
    const rows = r.clients.map((c: Record<string, unknown>) => {
      const { positions: _p, display_name: _d, user_id: _u, ...rest } = c;
      return rest;
    });
    expect(rows).toEqual([
      {
        username: 'c1',
        trades: 2,
        volume: '1480.00',
        commissions: '0.44',
        // 48,000 − 14 − floor(100,030 × 40 / 100)
        realised_pnl: '79.74',
        // 60 × 12.00 − (100,030 − 40,012)
        unrealised_pnl: '119.82',
        exposure: '720.00',
        cash: '99479.56',
      },
      {
        username: 'c2',
        trades: 1,
        volume: '110.00',
        commissions: '0.03',
        realised_pnl: '0.00',
        unrealised_pnl: '9.97',
        exposure: '120.00',
        cash: '49889.97',
      },
      {
        username: 'c4',
        trades: 0,
        volume: '0.00',
        commissions: '0.00',
        realised_pnl: '0.00',
        unrealised_pnl: '0.00',
        exposure: '0.00',
        cash: '0.00',
      },
    ]);
    expect(r.totals).toEqual({
      clients: 3,
      trades: 3,
      volume: '1590.00',
      commissions: '0.47',
      realised_pnl: '79.74',
      exposure: '840.00',
      cash: '149369.53',
    });
    expect(
      r.largest_positions.map((p: Record<string, unknown>) => [p.username, p.symbol, p.qty, p.market_value]),
    ).toEqual([
      ['c1', 'ABC', 60, '720.00'],
      ['c2', 'ABC', 10, '120.00'],
    ]);

    const withBps = await getJson<Body>(bps, `/v1/reports/brokerage?${PERIOD}`, b1);
    expect(withBps.commission_basis).toBe('10_bps_of_volume');
    expect(withBps.clients.map((c: { commissions: string }) => c.commissions)).toEqual([
      '1.48',
      '0.11',
      '0.00',
    ]);

    const csv = await get(app, `/v1/reports/brokerage?${PERIOD}&format=csv`, b1);
    const [header, ...lines] = parseCsv(csv.body);
    expect(lines.map((l) => Object.fromEntries(header!.map((h, i) => [h, l[i]])))).toEqual(
      r.clients.map((c: Record<string, unknown>) => ({
        user_id: c.user_id,
        username: c.username,
        trades: String(c.trades),
        volume: c.volume,
        commissions: c.commissions,
        realised_pnl: c.realised_pnl,
        unrealised_pnl: c.unrealised_pnl,
        exposure: c.exposure,
        cash: c.cash,
      })),
    );
    const pdf = await get(app, `/v1/reports/brokerage?${PERIOD}&format=pdf`, b1);
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdfPages(pdf.rawPayload)).toBeGreaterThanOrEqual(1);
  });

  it('keeps each broker inside their own brokerage', async () => {
    const other = await getJson<Body>(app, `/v1/reports/brokerage?${PERIOD}`, b2);
    expect(other.clients.map((c: { username: string }) => c.username)).toEqual(['c3']);
    expect((await get(app, `/v1/reports/brokerage?${PERIOD}&brokerage_id=B1`, b2)).statusCode).toBe(403);
    expect((await get(app, `/v1/reports/brokerage/clients/c1?${PERIOD}`, b2)).statusCode).toBe(404);
    expect((await get(app, `/v1/reports/brokerage/clients/c3?${PERIOD}`, b1)).statusCode).toBe(404);
    expect((await get(app, `/v1/reports/brokerage/clients/nobody?${PERIOD}`, b1)).statusCode).toBe(404);
    expect((await get(app, `/v1/reports/brokerage/clients/b2?${PERIOD}`, b1)).statusCode).toBe(404);

    const c1 = await getJson<Body>(app, `/v1/reports/brokerage/clients/c1?${PERIOD}`, b1);
    expect(c1).toMatchObject({ username: 'c1', trades: 2, realised_pnl: '79.74', exposure: '720.00' });
    expect(c1.positions).toEqual([{ symbol: 'ABC', qty: 60, mark: '12.00', market_value: '720.00' }]);
  });

  it('refuses investors and asks an admin which brokerage', async () => {
    for (const url of [`/v1/reports/brokerage?${PERIOD}`, `/v1/reports/brokerage/clients/c1?${PERIOD}`]) {
      const res = await get(app, url, as('c1', 'investor', 'B1'));
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const missing = await get(app, `/v1/reports/brokerage?${PERIOD}`, admin);
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors[0].field).toBe('brokerage_id');
    const b2s = await getJson<Body>(app, `/v1/reports/brokerage?${PERIOD}&brokerage_id=B2`, admin);
    expect(b2s.clients.map((c: { username: string }) => c.username)).toEqual(['c3']);
    expect((await get(app, `/v1/reports/brokerage/clients/c1?${PERIOD}`, admin)).statusCode).toBe(200);
    expect(
      (await get(app, `/v1/reports/brokerage/clients/c1?${PERIOD}&brokerage_id=B2`, admin)).statusCode,
    ).toBe(404);
  });

  it('answers the typed HTTP client the same, errors as problems', async () => {
    const client = httpReportingClient({
      baseUrl: 'http://reporting.test',
      internalToken: TOKEN,
      fetch: injectFetch(app),
    });
    const r = await client.brokerage(b1, { from: D1, to: D2 });
    expect(r.totals.volume).toBe('1590.00');
    const c1 = await client.brokerageClient(b1, 'c1', { from: D1, to: D2 });
    expect(c1.realised_pnl).toBe('79.74');
    const statement = await client.statement(as('c1'), { from: D1, to: D2 });
    expect(statement.trades.map((t) => t.net_amount)).toEqual(['-1000.30', '479.86']);
    const csv = await client.download(b1, '/v1/reports/brokerage', 'csv', { from: D1, to: D2 });
    expect(parseCsv(await csv.text())).toHaveLength(4);
    const refused = await client.brokerageClient(b2, 'c1').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ReportingApiError);
    expect((refused as ReportingApiError).problem.status).toBe(404);
  });
});

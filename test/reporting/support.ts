/** The reporting service in tests: a Fastify app with it registered, callers by identity, fake users. */
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import type { Clock } from '../../src/platform/clock.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { type ForwardedIdentity, identityHeaders } from '../../src/platform/http/forwarded-identity.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createReportingService, type ReportingServiceConfig } from '../../src/services/reporting/index.ts';
import type { Role, UsersClient, UserView } from '../../src/services/users/client.ts';

export const TOKEN = 'test-internal-token-0123456789abcdef';
export const logger = createLogger({ level: 'silent', name: 'test' });

export function user(id: string, role: Role = 'investor', brokerageId: string | null = null): UserView {
  return {
    id,
    username: id,
    email: `${id}@example.com`,
    display_name: null,
    role,
    brokerage_id: brokerageId,
    created_at: '2026-01-01T00:00:00.000Z',
  };
}

/** A users service that knows exactly these users (pages of 2, to exercise the cursor). */
export function fakeUsers(users: UserView[]): UsersClient {
  return {
    verifyAccessToken: async () => null,
    verifyApiKey: async () => null,
    getUser: async (id) => users.find((u) => u.id === id) ?? null,
    async listUsers(q = {}) {
      const all = users.filter(
        (u) =>
          (q.brokerageId === undefined || u.brokerage_id === q.brokerageId) && (!q.role || u.role === q.role),
      );
      const from = q.cursor ? Number(q.cursor) : 0;
      const page = all.slice(from, from + 2);
      return { users: page, next_cursor: from + 2 < all.length ? String(from + 2) : null };
    },
    canActFor: async () => false,
    jwks: async () => ({ keys: [] }),
  };
}

export function as(
  userId: string,
  role: Role = 'investor',
  brokerageId: string | null = null,
  accountId = userId,
): ForwardedIdentity {
  return { userId, role, brokerageId, username: userId, accountId };
}

export async function reportingApp(
  db: Db,
  users: UsersClient,
  clock: Clock,
  config: ReportingServiceConfig = {},
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  const service = createReportingService({ db, users, logger, clock, internalToken: TOKEN, config });
  await service.register(app);
  await app.ready();
  return app;
}

export function get(
  app: FastifyInstance,
  url: string,
  identity: ForwardedIdentity | null,
): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url, headers: identity ? identityHeaders(identity, TOKEN) : {} });
}

export async function getJson<T = Record<string, unknown>>(
  app: FastifyInstance,
  url: string,
  identity: ForwardedIdentity,
): Promise<T> {
  const res = await get(app, url, identity);
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  return res.json() as T;
}

/** md_candles is market-data's (migrations/003); created here only if that migration is absent. */
export async function ensureCandles(db: Db): Promise<void> {
  await db.exec(`CREATE TABLE IF NOT EXISTS md_candles (
    symbol text NOT NULL, timeframe text NOT NULL, bucket timestamptz NOT NULL,
    open numeric(20, 6) NOT NULL, high numeric(20, 6) NOT NULL, low numeric(20, 6) NOT NULL,
    close numeric(20, 6) NOT NULL, volume bigint NOT NULL, vwap numeric(20, 6), trades integer NOT NULL,
    source text NOT NULL, PRIMARY KEY (symbol, timeframe, bucket))`);
}

export async function insertCandle(
  db: Db,
  symbol: string,
  day: string,
  c: { o: number; h: number; l: number; c: number; v: number; vwap?: number },
  timeframe = '1d',
): Promise<void> {
  await db.query(
    `INSERT INTO md_candles (symbol, timeframe, bucket, open, high, low, close, volume, vwap, trades, source)
     VALUES ($1, $2, $3::timestamptz, $4, $5, $6, $7, $8, $9, 1, 'import')`,
    [
      symbol,
      timeframe,
      day.length === 10 ? `${day}T00:00:00Z` : day,
      c.o,
      c.h,
      c.l,
      c.c,
      c.v,
      c.vwap ?? null,
    ],
  );
}

let tradeId = 1_000_000;
let seq = 1_000_000;

/** A trade row as the orders service writes it (fixtures for hand-computed reports). */
export async function insertTrade(
  db: Db,
  t: {
    ts: string;
    symbol: string;
    price: number;
    qty: number;
    buyer: string;
    seller: string;
    buyFee?: number;
    sellFee?: number;
  },
): Promise<void> {
  const id = ++tradeId;
  await db.query(
    `INSERT INTO trades (id, seq, ts, symbol, price, qty, buy_order_id, sell_order_id, buy_account, sell_account,
                         aggressor, buy_fee, sell_fee)
     VALUES ($1, $2, $3::timestamptz, $4, $5, $6, $1, $1, $7, $8, 'buy', $9, $10)`,
    [id, ++seq, t.ts, t.symbol, t.price, t.qty, t.buyer, t.seller, t.buyFee ?? 0, t.sellFee ?? 0],
  );
}

export async function insertCash(
  db: Db,
  m: { ts: string; account: string; kind: 'deposit' | 'withdraw'; amount: number },
): Promise<void> {
  await db.query(
    `INSERT INTO cash_movements (seq, ts, account, kind, amount) VALUES ($1, $2::timestamptz, $3, $4, $5)`,
    [++seq, m.ts, m.account, m.kind, m.amount],
  );
}

export async function insertShares(
  db: Db,
  m: { ts: string; account: string; symbol: string; qty: number; cost: number },
): Promise<void> {
  await db.query(
    `INSERT INTO share_movements (seq, ts, account, symbol, qty, cost) VALUES ($1, $2::timestamptz, $3, $4, $5, $6)`,
    [++seq, m.ts, m.account, m.symbol, m.qty, m.cost],
  );
}

/** Pages of a PDF (page objects, not the page tree). */
export function pdfPages(pdf: Buffer): number {
  return (pdf.toString('latin1').match(/\/Type \/Page(?![s\w])/g) ?? []).length;
}

/** A parsed report body, as loosely typed as JSON is; the assertions check its shape. */
// biome-ignore lint/suspicious/noExplicitAny: the tests' expectations are the type check here
export type Body = Record<string, any>;

/** The text of each page of a PDF (pdf.js), to check what a reader sees: glyphs included. */
export async function pdfText(pdf: Buffer): Promise<string[]> {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await getDocument({ data: new Uint8Array(pdf), disableFontFace: true, useSystemFonts: false })
    .promise;
  const pages: string[] = [];
  for (let i = 1; i <= doc.numPages; i++) {
    const content = await (await doc.getPage(i)).getTextContent();
    pages.push(content.items.map((item) => ('str' in item ? item.str : '')).join(' '));
  }
  await doc.destroy();
  return pages;
}

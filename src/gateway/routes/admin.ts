/**
 * /v1/admin: what an operator does to the exchange (list instruments and their rules, halts, the
 * session) and sees of the edge (upstream breakers and health, rate limits), plus funding: cash in
 * and out of an account, which an admin may do for anyone and a broker for their own clients (never
 * for himself: that would create cash from nothing).
 * Everything else is admin-only; the orders service itself keeps these behind its internal API.
 */
import { PassThrough, type Writable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Upstream } from '../../platform/http/upstream/upstream.ts';
import { formatCents, parsePrice } from '../alpaca/decimal.ts';
import { SYMBOL_PATTERN } from '../alpaca/schemas.ts';
import type { Identity } from '../auth/credentials.ts';
import { type GatewayContext, identityOf } from '../context.ts';
import { forbidden, notFound } from '../problems.ts';
import { onceLeader, ordersShards } from './cluster-status.ts';
import { idempotencyKeySchema, route } from './common.ts';

const tags = ['admin'];
const looseObject = { type: 'object', additionalProperties: true } as const;

function requireAdmin(req: FastifyRequest): Identity {
  const identity = identityOf(req);
  if (identity.role !== 'admin') throw forbidden('Only an admin may do this');
  return identity;
}

const decimalString = { type: 'string', pattern: '^[0-9]{1,10}(\\.[0-9]{1,2})?$' } as const;

const instrumentBody = {
  type: 'object',
  additionalProperties: false,
  required: ['symbol', 'reference_price'],
  properties: {
    symbol: { type: 'string', pattern: SYMBOL_PATTERN },
    tick_size: { ...decimalString, default: '0.01', description: 'price increment in dollars' },
    lot_size: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1 },
    min_qty: { type: 'integer', minimum: 1, maximum: 1_000_000_000, default: 1 },
    max_qty: { type: 'integer', minimum: 1, maximum: 1_000_000_000, default: 1_000_000 },
    price_band_pct: {
      type: 'number',
      minimum: 0,
      maximum: 100,
      default: 10,
      description: 'refuse a limit price further than this from the reference price (0 = no band)',
    },
    collar_pct: {
      type: 'number',
      minimum: 0.01,
      maximum: 100,
      default: 5,
      description: 'market orders never trade further than this from the reference price',
    },
    reference_price: { ...decimalString, description: 'previous close, in dollars' },
  },
} as const;

interface InstrumentBody {
  symbol: string;
  tick_size: string;
  lot_size: number;
  min_qty: number;
  max_qty: number;
  price_band_pct: number;
  collar_pct: number;
  reference_price: string;
}

const haltBody = {
  type: 'object',
  additionalProperties: false,
  required: ['halted'],
  properties: {
    symbol: {
      type: ['string', 'null'],
      pattern: SYMBOL_PATTERN,
      description: 'absent or null: the whole market',
    },
    halted: { type: 'boolean' },
  },
} as const;

const sessionBody = {
  type: 'object',
  additionalProperties: false,
  required: ['state'],
  properties: { state: { type: 'string', enum: ['pre_open', 'open', 'closed'] } },
} as const;

const fundingBody = {
  type: 'object',
  additionalProperties: false,
  required: ['account_id', 'direction', 'amount'],
  properties: {
    // acted on through the acting rules, like ?account_id: a user id
    account_id: { type: 'string', format: 'uuid' },
    direction: { type: 'string', enum: ['deposit', 'withdraw'] },
    amount: { ...decimalString, description: 'dollars, > 0' },
    idempotency_key: idempotencyKeySchema,
  },
} as const;

const transferBody = {
  type: 'object',
  additionalProperties: false,
  required: ['account_id', 'symbol', 'qty'],
  properties: {
    account_id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' },
    symbol: { type: 'string', pattern: SYMBOL_PATTERN },
    qty: {
      type: 'integer',
      minimum: -1_000_000_000,
      maximum: 1_000_000_000,
      not: { const: 0 },
      description: '> 0 moves shares in, < 0 moves free shares out',
    },
    cost: { ...decimalString, description: 'cost basis in dollars of the shares moved in' },
    idempotency_key: idempotencyKeySchema,
  },
} as const;

function instrumentView(i: {
  symbol: string;
  tickSize: number;
  lotSize: number;
  minQty: number;
  maxQty: number;
  priceBandBps: number;
  collarBps: number;
  referencePrice: number;
  halted?: boolean;
}) {
  return {
    symbol: i.symbol,
    tick_size: formatCents(i.tickSize),
    lot_size: i.lotSize,
    min_qty: i.minQty,
    max_qty: i.maxQty,
    price_band_pct: i.priceBandBps / 100,
    collar_pct: i.collarBps / 100,
    reference_price: formatCents(i.referencePrice),
    halted: i.halted ?? false,
  };
}

export interface AdminDeps {
  upstreams: readonly Upstream[];
  /** asked for their roles (shards, leaders, standbys) with the internal token */
  /** the orders balancers: the unsharded service's, or one per shard */
  orders: readonly Upstream[];
  marketData?: Upstream | undefined;
  internalToken: string;
  /**
   * Writes a consistent backup of the database to `out` (`bourse backup` on PGlite, where only the
   * running process may open the folder); absent when the gateway runs without the database.
   */
  backup?: ((out: Writable, file: string) => Promise<unknown>) | undefined;
}

export async function adminRoutes(app: FastifyInstance, ctx: GatewayContext, deps: AdminDeps): Promise<void> {
  app.get(
    '/v1/admin/status',
    route({
      tags,
      summary: 'Operator status',
      description:
        'The exchange session and halts, the orders storage (journal and snapshot disk use, last snapshot age, ' +
        'projection and outbox lag, archive, last backup), every upstream instance (health, breaker, role), ' +
        'the cluster (orders shards with their leader and standbys, the market-data leader, unreachable instances) ' +
        'and the rate limits.',
      response: { 200: looseObject },
    }),
    async (req) => {
      requireAdmin(req);
      const [exchange, storage, marketData] = await Promise.all([
        ctx.orders(req.id, true, (c) => c.exchangeStatus()),
        ctx.orders(req.id, true, (c) => c.storageStatus()),
        deps.marketData && onceLeader(deps.marketData, deps.internalToken, 'market_data'),
      ]);
      const orders = await ordersShards(deps.orders, deps.internalToken, exchange.lastSeq);
      return {
        exchange: {
          session: exchange.session,
          market_halted: exchange.marketHalted,
          last_seq: exchange.lastSeq,
        },
        storage: {
          journal_bytes: storage.journal.bytes,
          journal_rows: storage.journal.rows,
          journal_first_seq: storage.journal.firstSeq,
          archived_seq: storage.journal.archivedSeq,
          archive_dir: storage.journal.archiveDir,
          snapshots_bytes: storage.snapshots.bytes,
          snapshots: storage.snapshots.count,
          last_snapshot_seq: storage.snapshots.lastSeq,
          last_snapshot_at: storage.snapshots.lastTakenAt,
          last_snapshot_age_s:
            storage.snapshots.lastAgeMs === null ? null : Math.round(storage.snapshots.lastAgeMs / 1000),
          committed_seq: storage.seqs.committed,
          projected_seq: storage.seqs.projected,
          published_seq: storage.seqs.published,
          projection_lag: storage.lag.projection,
          outbox_lag: storage.lag.outbox,
          last_backup: storage.lastBackup && {
            taken_at: storage.lastBackup.takenAt,
            journal_seq: storage.lastBackup.journalSeq,
            bytes: storage.lastBackup.bytes,
            file: storage.lastBackup.file,
          },
        },
        cluster: { orders: orders, ...(marketData && { market_data: marketData }) },
        upstreams: deps.upstreams.map((u) => ({ name: u.name, instances: u.instances() })),
        rate_limits: ctx.config.rateLimits,
      };
    },
  );

  app.get<{ Querystring: { file?: string } }>(
    '/v1/admin/backup',
    route({
      tags,
      summary: 'A consistent backup of the database (what `bourse backup` downloads)',
      description:
        'gzip; restore with `bourse restore FILE`. `file` only names the backup in the status (ops_backups).',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { file: { type: 'string', minLength: 1, maxLength: 500 } },
      },
      response: { 200: { type: 'string', format: 'binary' } },
    }),
    async (req, reply) => {
      requireAdmin(req);
      const backup = deps.backup;
      if (!backup)
        throw notFound('This gateway has no database: run `bourse backup` where DATABASE_URL is set');
      const out = new PassThrough();
      backup(out, req.query.file ?? 'download').catch((err) => {
        req.log.error({ err }, 'backup failed');
        out.destroy(err as Error);
      });
      return reply.type('application/gzip').header('content-disposition', 'attachment').send(out);
    },
  );

  app.get(
    '/v1/admin/instruments',
    route({
      tags,
      summary: 'Listed symbols and their rules',
      response: { 200: { type: 'array', items: looseObject } },
    }),
    async (req) => {
      requireAdmin(req);
      const list = await ctx.orders(req.id, true, (c) => c.instruments());
      return list.map(instrumentView);
    },
  );

  app.post<{ Body: InstrumentBody }>(
    '/v1/admin/instruments',
    route({
      tags,
      summary: 'List a symbol',
      description: 'Prices in dollars; percentages as numbers (5 = 5%).',
      body: instrumentBody,
      response: { 201: looseObject },
      rateClass: 'orders',
    }),
    async (req, reply) => {
      requireAdmin(req);
      const b = req.body;
      const tickSize = parsePrice(b.tick_size, 'tick_size');
      const referencePrice = parsePrice(b.reference_price, 'reference_price');
      const created = await ctx.orders(req.id, false, (c) =>
        c.addInstrument({
          symbol: b.symbol,
          tickSize,
          lotSize: b.lot_size,
          minQty: b.min_qty,
          maxQty: b.max_qty,
          priceBandBps: Math.round(b.price_band_pct * 100),
          collarBps: Math.round(b.collar_pct * 100),
          referencePrice,
        }),
      );
      return reply.code(201).send(instrumentView(created));
    },
  );

  app.post<{ Body: { symbol?: string | null; halted: boolean } }>(
    '/v1/admin/halts',
    route({
      tags,
      summary: 'Halt or resume a symbol, or the whole market',
      body: haltBody,
      response: { 200: looseObject },
      rateClass: 'orders',
    }),
    async (req) => {
      requireAdmin(req);
      const status = await ctx.orders(req.id, true, (c) =>
        c.halt({ symbol: req.body.symbol ?? null, halted: req.body.halted }),
      );
      return { session: status.session, market_halted: status.marketHalted, last_seq: status.lastSeq };
    },
  );

  app.post<{ Body: { state: 'pre_open' | 'open' | 'closed' } }>(
    '/v1/admin/session',
    route({
      tags,
      summary: 'Move the exchange session (closing expires DAY orders)',
      body: sessionBody,
      response: { 200: looseObject },
      rateClass: 'orders',
    }),
    async (req) => {
      requireAdmin(req);
      const status = await ctx.orders(req.id, true, (c) => c.setSession(req.body.state));
      return { session: status.session, market_halted: status.marketHalted, last_seq: status.lastSeq };
    },
  );

  app.post<{
    Body: { account_id: string; symbol: string; qty: number; cost?: string; idempotency_key?: string };
  }>(
    '/v1/admin/transfers',
    route({
      tags,
      summary: 'Move shares into or out of an account (a transfer from another broker, a correction)',
      description: 'Admin only. Shares moved in carry the given cost basis; only free shares move out.',
      body: transferBody,
      response: { 200: looseObject },
      rateClass: 'orders',
    }),
    async (req) => {
      requireAdmin(req);
      const b = req.body;
      const cost = b.cost === undefined ? undefined : parsePrice(b.cost, 'cost');
      const key = b.idempotency_key;
      const result = await ctx.orders(req.id, key !== undefined, (c) =>
        c.transferShares(b.account_id, {
          symbol: b.symbol,
          qty: b.qty,
          ...(cost !== undefined && { cost }),
          ...(key !== undefined && { idempotencyKey: key }),
        }),
      );
      return { account_id: b.account_id, symbol: b.symbol, qty: b.qty, position: result.position };
    },
  );

  app.post<{
    Body: { account_id: string; direction: 'deposit' | 'withdraw'; amount: string; idempotency_key?: string };
  }>(
    '/v1/admin/funding',
    route({
      tags,
      summary: 'Deposit or withdraw cash',
      description:
        'An admin for any account, a broker for their own brokerage’s clients (never their own account). ' +
        'With an idempotency_key ' +
        'a retry returns the first outcome instead of moving the cash twice.',
      body: fundingBody,
      response: { 200: looseObject },
      rateClass: 'orders',
    }),
    async (req) => {
      const identity = identityOf(req);
      if (identity.role === 'investor') throw forbidden('Funding is done by a broker or an admin');
      const account = await ctx.acting.accountOf(identity, { query: req.body.account_id }, req.id);
      // acting "for" oneself is allowed everywhere else; here it would let a broker mint his own cash
      if (identity.role !== 'admin' && account === identity.userId) {
        throw forbidden('A broker funds their brokerage’s clients, never their own account');
      }
      const amount = parsePrice(req.body.amount, 'amount');
      const key = req.body.idempotency_key;
      const request = { amount, ...(key !== undefined && { idempotencyKey: key }) };
      const result = await ctx.orders(req.id, key !== undefined, (c) =>
        req.body.direction === 'deposit' ? c.deposit(account, request) : c.withdraw(account, request),
      );
      return { account_id: account, direction: req.body.direction, amount: formatCents(amount), result };
    },
  );
}

/**
 * A shard node's projection into the orders service's read tables (migrations 001, 009), so that
 * the orders service's own queries (../queries.ts) serve a sharded deployment (issue 11;
 * docs/design.md "Orders shards").
 *
 *   apply input → `projectionOf` (what it changes, captured from the state right after it) →
 *   journal commit → ack → offered to the projector (../projector.ts: batches, off the ack path)
 *   → `writeShardProjection` (one statement per batch, its watermark shard_outbox.projected_seq)
 *
 * Who writes what, so that every row has exactly one writer:
 *   - the owner's risk shard: its accounts' `orders` (from the order events settled there, a
 *     refusal at R or at M as a rejected order), `accounts` (cash = everything the account owns:
 *     free + pending + kept at matching shards; reserved = what is not free), `positions` (the
 *     same for shares), `cash_movements` and `share_movements`;
 *   - the symbol's matching shard: `trades` and its own symbols' `instruments`.
 *
 * Keys unique across shards: trade ids are qualified at the matching shard (engine/shards/
 * matching-shard.ts, the same ids in the published events); movements are keyed and every row's
 * seq is the journal seq qualified by the risk shard, qualifiedId(seq, shard, N) — an account's
 * rows all come from one shard, so their order is its journal's.
 *
 * Idempotent: trades and movements are inserted once (ON CONFLICT DO NOTHING), rows of current
 * state are upserted only over an older row (updated_seq), so projecting a range again, or a
 * deposed leader writing late, leaves the same tables. The write is fenced as well (persistence.ts).
 *
 * A row is captured when its input is applied, never read from the state later (which has moved on
 * by the time a batch is written), so the tables are exactly "the journal up to projected_seq".
 */
import type { CancelReason, OrderView, RejectReason, TradeEvent } from '../../../domain/exchange.ts';
import { qualifiedId } from '../../../engine/shards/layout.ts';
import type { ShardInput, ShardNode, ShardStep } from '../../../engine/shards/node.ts';
import type { RiskCommand } from '../../../engine/shards/risk-shard.ts';
import type { Db, Queryable } from '../../../platform/db/types.ts';
import { idempotencyKeys } from '../journal.ts';
import {
  ACCOUNT_COLUMNS,
  CASH_MOVEMENTS,
  type Creation,
  c,
  commandOrderView,
  cteFor,
  type Fencing,
  fenced,
  INSTRUMENTS,
  instrumentRow,
  NEW_ORDERS,
  orderRow,
  POSITION_COLUMNS,
  rejectedOrderView,
  SHARE_MOVEMENTS,
  type TableSpec,
  TRADES,
} from '../persistence.ts';
import { EXEC_KINDS } from './events.ts';

/** The orders' columns that never change once created: a conflict keeps them as stored. */
const CREATION = [
  'account',
  'client_order_id',
  'symbol',
  'side',
  'type',
  'tif',
  'post_only',
  'created_at',
  'created_seq',
  'order_class',
  'parent_id',
  'activation_price',
];

const ORDERS: TableSpec = {
  ...NEW_ORDERS,
  name: 'orders',
  mode: { kind: 'upsert', key: ['id'], keep: CREATION, newer: 'updated_seq' },
};
/** A new order refused at its matching shard, whose row (written when it was held) is older. */
const REJECTIONS: TableSpec = {
  name: 'rejections',
  table: 'orders',
  mode: { kind: 'update', key: ['id'], newer: 'updated_seq' },
  columns: [c('id', 'int8'), c('status', 'text'), c('reject_reason', 'text'), c('updated_seq', 'int8')],
};
const SHARD_TRADES: TableSpec = { ...TRADES, mode: { kind: 'insert', ignore: true } };
const ACCOUNTS: TableSpec = {
  name: 'accounts',
  table: 'accounts',
  mode: { kind: 'upsert', key: ['account'], newer: 'updated_seq' },
  columns: ACCOUNT_COLUMNS,
};
const POSITIONS: TableSpec = {
  name: 'positions',
  table: 'positions',
  mode: { kind: 'upsert', key: ['account', 'symbol'], newer: 'updated_seq' },
  columns: POSITION_COLUMNS,
};
const SHARD_CASH: TableSpec = { ...CASH_MOVEMENTS, mode: { kind: 'insert', ignore: true } };
const SHARD_SHARES: TableSpec = { ...SHARE_MOVEMENTS, mode: { kind: 'insert', ignore: true } };
const SHARD_INSTRUMENTS: TableSpec = {
  ...INSTRUMENTS,
  mode: { kind: 'upsert', key: ['symbol'], newer: 'updated_seq' },
};

const TABLES = [
  ORDERS,
  REJECTIONS,
  SHARD_TRADES,
  ACCOUNTS,
  POSITIONS,
  SHARD_CASH,
  SHARD_SHARES,
  SHARD_INSTRUMENTS,
];

function buildStatement(): string {
  const ctes = ["w_async AS (SELECT set_config('synchronous_commit', 'off', true) AS v)"];
  TABLES.forEach((spec, i) => {
    ctes.push(cteFor(spec, i + 1));
  });
  const touched = TABLES.length + 1;
  // positions an account no longer has (sold, sent away) go to zero, as the engine reports them:
  // every position of an account touched in the batch that the batch does not write
  ctes.push(
    `w_gone AS (UPDATE positions AS p SET qty = 0, reserved = 0, cost = 0, updated_seq = u.seq
       FROM (SELECT e->>0 AS account, (e->>1)::int8 AS seq FROM jsonb_array_elements($${touched}::jsonb) AS e) AS u
      WHERE p.account = u.account AND p.updated_seq < u.seq AND (p.qty <> 0 OR p.reserved <> 0)
        AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements($${POSITION_PARAM}::jsonb) AS w
                         WHERE w->>0 = p.account AND w->>1 = p.symbol))`,
  );
  return (
    `WITH ${ctes.join(',\n')}\n` +
    `INSERT INTO shard_outbox (shard, published_seq, projected_seq) SELECT $${touched + 1}::int4, 0, $${touched + 2}::int8 FROM w_async ` +
    'ON CONFLICT (shard) DO UPDATE SET projected_seq = GREATEST(shard_outbox.projected_seq, EXCLUDED.projected_seq)'
  );
}
const POSITION_PARAM = TABLES.indexOf(POSITIONS) + 1;
const STATEMENT = buildStatement();

interface OrderChange {
  view: OrderView;
  /** set when this input created the order (held, refused at R, or a leg's first view) */
  creation: Creation | null;
  cancelReason: CancelReason | null;
}

interface AccountState {
  account: string;
  cash: number;
  reserved: number;
  positions: { symbol: string; qty: number; reserved: number; cost: number }[];
}

/** What one journaled input changes in the tables (local seq; rows carry the qualified one). */
export interface ProjectedEntry {
  seq: number;
  orders: OrderChange[];
  rejections: { id: number; reason: RejectReason }[];
  trades: TradeEvent[];
  accounts: AccountState[];
  /** a deposit, withdrawal or share transfer that went through, with its key (or null) */
  movement: { command: RiskCommand; key: string | null } | null;
  instruments: unknown[][];
}

/** What journal entry `seq` changes in the tables: captured right after the node applied it. */
export function projectionOf(
  seq: number,
  input: ShardInput,
  step: ShardStep,
  node: ShardNode,
  clientIdOf: (orderId: number) => string | null,
): ProjectedEntry {
  const q = qualifiedId(seq, node.shard, node.layout.riskShards);
  const out: ProjectedEntry = {
    seq,
    orders: [],
    rejections: [],
    trades: [],
    accounts: [],
    movement: null,
    instruments: [],
  };
  const command = input.kind === 'command' ? input.command : null;
  const key = input.kind === 'command' ? (input.key ?? null) : null;
  const created = (rejectReason: RejectReason | null): Creation => ({
    seq: q,
    clientOrderId: key,
    rejectReason,
  });
  let refused = false;
  for (const ev of step.events) {
    if (ev.type === 'held' && command?.type === 'new_order') {
      // acknowledged: held here and on its way to the book
      out.orders.push({
        view: commandOrderView(command, 'new'),
        creation: created(null),
        cancelReason: null,
      });
    } else if (ev.type === 'rejected') {
      refused = true;
      if (ev.command !== 'new_order' || ev.id === undefined) continue;
      if (command?.type === 'new_order') {
        // refused here; an id already taken names another order
        if (ev.reason !== 'duplicate_order_id')
          out.orders.push({
            view: rejectedOrderView(command),
            creation: created(ev.reason),
            cancelReason: null,
          });
      } else out.rejections.push({ id: ev.id, reason: ev.reason });
    } else if ('order' in ev && EXEC_KINDS.has(ev.type)) {
      // a leg appears first here, accepted at its matching shard
      const creation =
        ev.type === 'accepted'
          ? { seq: q, clientOrderId: clientIdOf(ev.order.id), rejectReason: null }
          : null;
      out.orders.push({ view: ev.order, creation, cancelReason: ev.type === 'canceled' ? ev.reason : null });
    }
  }
  if (
    !refused &&
    (command?.type === 'deposit' || command?.type === 'withdraw' || command?.type === 'transfer_shares')
  )
    out.movement = { command, key };
  for (const account of step.accounts) {
    const a = node.risk.accounts.get(account);
    if (a === undefined) continue;
    let cash = a.cash + a.pendingCash;
    const shares = new Map<string, { qty: number; free: number; cost: number }>();
    const add = (symbol: string, qty: number, free: number, cost: number) => {
      const p = shares.get(symbol) ?? { qty: 0, free: 0, cost: 0 };
      shares.set(symbol, { qty: p.qty + qty, free: p.free + free, cost: p.cost + cost });
    };
    for (const [symbol, p] of a.positions) add(symbol, p.qty, p.qty, p.cost);
    // on their way to a matching shard with an order: their cost basis travels with them
    for (const [symbol, qty] of a.pendingShares) add(symbol, qty, 0, 0);
    for (const kept of a.kept.values()) {
      cash += kept.cash;
      for (const h of kept.shares) add(h.symbol, h.qty, 0, h.cost);
    }
    out.accounts.push({
      account,
      cash,
      reserved: cash - a.cash,
      positions: [...shares].map(([symbol, p]) => ({
        symbol,
        qty: p.qty,
        reserved: p.qty - p.free,
        cost: p.cost,
      })),
    });
  }
  const symbols = new Set<string>();
  for (const ev of step.market) {
    if (ev.type === 'trade') {
      out.trades.push(ev);
      symbols.add(ev.symbol);
    } else if (ev.type === 'instrument') symbols.add(ev.spec.symbol);
    else if (ev.type === 'halt' && ev.symbol !== null) symbols.add(ev.symbol);
  }
  for (const symbol of symbols) {
    const i = node.matching.exchange.instrument(symbol);
    if (i !== undefined) out.instruments.push(instrumentRow(i, q));
  }
  return out;
}

/**
 * Writes a run of projected entries and moves the watermark to the last one: one statement, one
 * transaction (fenced when the node leads under a lease), asynchronous commit (the journal is
 * the record). Each key's last value in the run only.
 */
export async function writeShardProjection(
  db: Db,
  node: Pick<ShardNode, 'shard' | 'layout'>,
  entries: readonly ProjectedEntry[],
  fencing: Fencing | null,
): Promise<void> {
  const qualify = (seq: number) => qualifiedId(seq, node.shard, node.layout.riskShards);
  const orders = new Map<
    number,
    { change: OrderChange; creation: Creation | null; seq: number; rejected: RejectReason | null }
  >();
  const rejections = new Map<number, { reason: RejectReason; seq: number }>();
  const trades: unknown[][] = [];
  const accounts = new Map<string, { state: AccountState; seq: number }>();
  const cash: unknown[][] = [];
  const shares: unknown[][] = [];
  const instruments = new Map<unknown, unknown[]>();
  for (const e of entries) {
    const q = qualify(e.seq);
    for (const o of e.orders) {
      const before = orders.get(o.view.id);
      orders.set(o.view.id, {
        change: o,
        creation: before?.creation ?? o.creation,
        seq: q,
        rejected: before?.rejected ?? null,
      });
    }
    for (const r of e.rejections) {
      const row = orders.get(r.id);
      // held in this same run: one row, refused
      if (row !== undefined) orders.set(r.id, { ...row, seq: q, rejected: r.reason });
      else rejections.set(r.id, { reason: r.reason, seq: q });
    }
    for (const t of e.trades)
      trades.push([
        t.tradeId,
        q,
        t.ts,
        t.symbol,
        t.price,
        t.qty,
        t.buyOrderId,
        t.sellOrderId,
        t.buyAccount,
        t.sellAccount,
        t.aggressor,
        t.buyFee,
        t.sellFee,
      ]);
    for (const a of e.accounts) accounts.set(a.account, { state: a, seq: q });
    const moved = e.movement?.command;
    if (moved?.type === 'deposit' || moved?.type === 'withdraw') {
      const key = e.movement!.key && idempotencyKeys.cash(moved.account, e.movement!.key);
      cash.push([q, moved.ts, moved.account, moved.type, moved.amount, key]);
    } else if (moved?.type === 'transfer_shares') {
      const key = e.movement!.key && idempotencyKeys.shares(moved.account, e.movement!.key);
      shares.push([q, moved.ts, moved.account, moved.symbol, moved.qty, moved.cost, key]);
    }
    for (const row of e.instruments) instruments.set(row[0], row);
  }
  const orderRows: unknown[][] = [];
  for (const { change, creation, seq, rejected } of orders.values()) {
    const view = rejected === null ? change.view : { ...change.view, status: 'rejected' as const };
    // only an order created in this run has its creation here (a conflict keeps the stored one);
    // the reject reason is the one column of it that a refusal at the matching shard sets later
    const made = creation ?? { seq, clientOrderId: null, rejectReason: null };
    orderRows.push(
      orderRow(view, { ...made, rejectReason: rejected ?? made.rejectReason }, change.cancelReason, seq),
    );
  }
  const accountRows: unknown[][] = [];
  const positionRows: unknown[][] = [];
  const touched: unknown[][] = [];
  for (const { state, seq } of accounts.values()) {
    accountRows.push([state.account, state.cash, state.reserved, seq]);
    for (const p of state.positions)
      positionRows.push([state.account, p.symbol, p.qty, p.reserved, p.cost, seq]);
    touched.push([state.account, seq]);
  }
  const params: unknown[] = [
    orderRows,
    [...rejections].map(([id, r]) => [id, 'rejected', r.reason, r.seq]),
    trades,
    accountRows,
    positionRows,
    cash,
    shares,
    [...instruments.values()],
    touched,
  ].map((rows) => JSON.stringify(rows));
  params.push(node.shard, entries[entries.length - 1]!.seq);
  const write = (tx: Queryable) => tx.query(STATEMENT, params, { prepare: true });
  if (fencing === null) await write(db);
  else await fenced(db, fencing, write);
}

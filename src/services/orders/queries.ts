/**
 * Reads. All of them go to the database, i.e. to committed state only: an acknowledged command is
 * always visible (acks follow commits), an unacknowledged one never is. Lists are keyset-paged,
 * newest first, so a page costs the same however deep it is.
 */
import type { Queryable } from '../../platform/db/types.ts';
import {
  balanceOf,
  executionsOfRow,
  type InstrumentRow,
  instrumentOfRow,
  ORDER_COLUMNS,
  type OrderRow,
  orderOfRow,
  positionOf,
  publicTradeOfRow,
  TRADE_COLUMNS,
  type TradeRow,
} from './mapping.ts';
import type {
  Balance,
  CashMovement,
  Execution,
  Instrument,
  ListOrdersQuery,
  Order,
  Page,
  Position,
  PublicTrade,
} from './model.ts';

const DEFAULT_LIMIT = 100;

export async function orderById(db: Queryable, account: string, id: number): Promise<Order | null> {
  const { rows } = await db.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1 AND account = $2`,
    [id, account],
  );
  return rows[0] ? (await withLegs(db, [orderOfRow(rows[0])]))[0]! : null;
}

/**
 * Entries of a bracket, oto or oco carry their legs (Alpaca's `legs`), read in one query. The legs
 * are also orders of their own, listed and addressed by their ids.
 */
export async function withLegs(db: Queryable, orders: Order[]): Promise<Order[]> {
  const entries = orders.filter((o) => o.orderClass !== undefined && o.parentId === undefined);
  if (entries.length === 0) return orders;
  const { rows } = await db.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM orders WHERE parent_id = ANY($1::int8[]) ORDER BY id`,
    [entries.map((o) => o.id)],
  );
  const legs = new Map<number, Order[]>();
  for (const r of rows) {
    const leg = orderOfRow(r);
    legs.set(leg.parentId!, [...(legs.get(leg.parentId!) ?? []), leg]);
  }
  for (const o of entries) o.legs = legs.get(o.id) ?? [];
  return orders;
}

export async function orderByClientId(
  db: Queryable,
  account: string,
  clientOrderId: string,
): Promise<Order | null> {
  const { rows } = await db.query<OrderRow>(
    // the newest: a client order id may be used again once its idempotency window is over
    `SELECT ${ORDER_COLUMNS} FROM orders WHERE account = $1 AND client_order_id = $2 ORDER BY id DESC LIMIT 1`,
    [account, clientOrderId],
  );
  return rows[0] ? (await withLegs(db, [orderOfRow(rows[0])]))[0]! : null;
}

export async function listOrders(db: Queryable, account: string, q: ListOrdersQuery): Promise<Page<Order>> {
  const limit = q.limit ?? DEFAULT_LIMIT;
  const params: unknown[] = [account, q.cursor === undefined ? null : Number(q.cursor), limit + 1];
  // the three filters each match one index: orders_open_by_account, orders_account_id (+ filter)
  let filter = '';
  if (q.status === 'open') filter += ` AND status IN ('held', 'new', 'partially_filled')`;
  if (q.status === 'closed') filter += ` AND status NOT IN ('held', 'new', 'partially_filled')`;
  if (q.symbol !== undefined) {
    params.push(q.symbol);
    filter += ` AND symbol = $${params.length}`;
  }
  const { rows } = await db.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM orders
      WHERE account = $1 AND ($2::int8 IS NULL OR id < $2)${filter}
      ORDER BY id DESC LIMIT $3`,
    params,
  );
  return pageOf(await withLegs(db, rows.map(orderOfRow)), limit, (o) => String(o.id));
}

export async function accountTrades(
  db: Queryable,
  account: string,
  q: { limit?: number; cursor?: string; symbol?: string },
): Promise<Page<Execution>> {
  const limit = q.limit ?? DEFAULT_LIMIT;
  const params = [account, q.cursor === undefined ? null : Number(q.cursor), limit + 1, q.symbol ?? null];
  const side = (column: string) =>
    `(SELECT ${TRADE_COLUMNS} FROM trades
       WHERE ${column} = $1 AND ($2::int8 IS NULL OR id < $2) AND ($4::text IS NULL OR symbol = $4)
       ORDER BY id DESC LIMIT $3)`;
  const { rows } = await db.query<TradeRow>(
    // a self-trade appears in both halves: the account did take both sides, so both executions
    `SELECT DISTINCT ON (id) * FROM (${side('buy_account')} UNION ALL ${side('sell_account')}) t
      ORDER BY id DESC LIMIT $3`,
    params,
  );
  // a page ends on a whole trade: both sides of a self-trade share its cursor
  const page = rows.slice(0, limit);
  return {
    items: page.flatMap((r) => executionsOfRow(r, account)),
    nextCursor: rows.length > limit && page.length > 0 ? String(page[page.length - 1]!.id) : null,
  };
}

export async function symbolTrades(
  db: Queryable,
  symbol: string,
  q: { limit?: number; cursor?: string },
): Promise<Page<PublicTrade>> {
  const limit = q.limit ?? DEFAULT_LIMIT;
  const [ts, id] = q.cursor === undefined ? [null, null] : q.cursor.split('.').map(Number);
  const { rows } = await db.query<TradeRow>(
    `SELECT ${TRADE_COLUMNS} FROM trades
      WHERE symbol = $1
        AND ($2::int8 IS NULL OR (ts, id) < ('epoch'::timestamptz + $2::int8 * interval '1 millisecond', $3::int8))
      ORDER BY ts DESC, id DESC LIMIT $4`,
    [symbol, ts ?? null, id ?? null, limit + 1],
  );
  return pageOf(rows.map(publicTradeOfRow), limit, (t) => `${t.ts}.${t.tradeId}`);
}

export async function balance(db: Queryable, account: string): Promise<Balance> {
  const { rows } = await db.query<{ cash: number; reserved: number }>(
    'SELECT cash, reserved FROM accounts WHERE account = $1',
    [account],
  );
  const row = rows[0];
  // accounts are implicit: one that never received cash simply has none
  return balanceOf(account, row?.cash ?? 0, row?.reserved ?? 0);
}

export async function positions(db: Queryable, account: string): Promise<Position[]> {
  const { rows } = await db.query<{ symbol: string; qty: number; reserved: number; cost: number }>(
    `SELECT symbol, qty, reserved, cost FROM positions
      WHERE account = $1 AND (qty <> 0 OR reserved <> 0) ORDER BY symbol`,
    [account],
  );
  return rows.map((r) => positionOf(account, r.symbol, r.qty, r.reserved, r.cost));
}

export async function position(db: Queryable, account: string, symbol: string): Promise<Position> {
  const { rows } = await db.query<{ qty: number; reserved: number; cost: number }>(
    'SELECT qty, reserved, cost FROM positions WHERE account = $1 AND symbol = $2',
    [account, symbol],
  );
  const r = rows[0];
  return positionOf(account, symbol, r?.qty ?? 0, r?.reserved ?? 0, r?.cost ?? 0);
}

export async function cashMovements(
  db: Queryable,
  account: string,
  q: { limit?: number; cursor?: string },
): Promise<Page<CashMovement>> {
  const limit = q.limit ?? DEFAULT_LIMIT;
  const { rows } = await db.query<{ seq: number; ts: Date; kind: CashMovement['kind']; amount: number }>(
    `SELECT seq, ts, kind, amount FROM cash_movements
      WHERE account = $1 AND ($2::int8 IS NULL OR seq < $2) ORDER BY seq DESC LIMIT $3`,
    [account, q.cursor === undefined ? null : Number(q.cursor), limit + 1],
  );
  return pageOf(
    rows.map((r) => ({ seq: r.seq, ts: r.ts.getTime(), kind: r.kind, amount: r.amount })),
    limit,
    (m) => String(m.seq),
  );
}

export async function instruments(db: Queryable): Promise<Instrument[]> {
  const { rows } = await db.query<InstrumentRow>(
    `SELECT symbol, tick_size, lot_size, min_qty, max_qty, price_band_bps, collar_bps, reference_price,
            maker_bps, taker_bps, halted, last_trade_price
       FROM instruments ORDER BY symbol`,
  );
  return rows.map(instrumentOfRow);
}

export async function exchangeRow(
  db: Queryable,
): Promise<{ session: string; marketHalted: boolean; lastSeq: number } | null> {
  const { rows } = await db.query<{ session: string; market_halted: boolean; last_seq: number }>(
    'SELECT session, market_halted, last_seq FROM exchange_state WHERE id = 1',
  );
  const r = rows[0];
  return r ? { session: r.session, marketHalted: r.market_halted, lastSeq: r.last_seq } : null;
}

function pageOf<T>(rows: T[], limit: number, cursorOf: (item: T) => string): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { items, nextCursor: more ? cursorOf(items[items.length - 1]!) : null };
}

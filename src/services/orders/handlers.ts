/**
 * The service's handlers: the in-process OrdersClient. The HTTP routes are a thin layer over
 * these, so both doors validate, refuse and answer identically.
 *
 * Writes go through the sequencer and answer from the command's own engine events (which are
 * committed by the time the sequencer resolves). Reads go to the database (queries.ts), after
 * waiting for the projection to reach everything committed so far (`fresh`): a caller always
 * reads its own acknowledged writes. Book depth comes from the committed book view.
 */
import type { SessionState } from '../../domain/exchange.ts';
import type { Queryable } from '../../platform/db/types.ts';
import type { OrdersClient } from './client.ts';
import type { CommittedBook } from './committed-book.ts';
import { idempotencyKeys, journalEntry, type KeyKind } from './journal.ts';
import {
  balanceOf,
  lastViewOf,
  newOrderInput,
  orderOfEvents,
  positionOf,
  replaceInput,
  sameIntent,
  toOrder,
} from './mapping.ts';
import type {
  CashRequest,
  CashResult,
  ExchangeStatus,
  Instrument,
  InstrumentSpec,
  ListOrdersQuery,
  NewOrderRequest,
  Order,
  OrderResult,
  PageQuery,
  ReplaceRequest,
  ShareTransferRequest,
  StorageStatus,
} from './model.ts';
import { idempotencyKeyReused, notFound, orderNotFound, rejection } from './problems.ts';
import * as q from './queries.ts';
import { validators } from './schemas.ts';
import type { CommandInput, SequencedCommand, Sequencer, SubmitOutcome } from './sequencer.ts';

export interface HandlerContext {
  db: Queryable;
  sequencer: Sequencer;
  /** current views (replaced on recovery, hence getters) */
  book(): CommittedBook;
  clientOrderIds(): Map<number, string>;
  /** resolves once the tables reflect every command committed before the call */
  fresh(): Promise<void>;
  /** a key's command that memory no longer holds but the window still covers: its seq, or null */
  findOldKey(kind: KeyKind, account: string, key: string): Promise<number | null>;
  /** the journal, snapshots, lags and last backup, for the operator status */
  storageStatus(): Promise<StorageStatus>;
}

/** The reads served from the tables alone (queries.ts), whoever wrote them. */
export type TableReads = Pick<
  OrdersClient,
  | 'getOrder'
  | 'getOrderByClientId'
  | 'listOrders'
  | 'accountTrades'
  | 'cashMovements'
  | 'symbolTrades'
  | 'balance'
  | 'positions'
>;

/**
 * Those reads, validated and refused as every door of the orders service refuses them. `db` must
 * already wait for the projection (read-your-writes) as its caller needs: the orders service's
 * handlers below, and shard nodes' reads (shards/reads.ts).
 */
export function tableReads(db: Queryable): TableReads {
  return {
    getOrder: async (account, orderId) => {
      validators.account(account);
      validators.orderId(orderId);
      const order = await q.orderById(db, account, orderId);
      if (!order) throw orderNotFound(orderId);
      return order;
    },

    getOrderByClientId: async (account, clientOrderId) => {
      validators.account(account);
      validators.clientOrderId(clientOrderId);
      const order = await q.orderByClientId(db, account, clientOrderId);
      if (!order) throw orderNotFound(clientOrderId);
      return order;
    },

    listOrders: async (account, query = {}) => {
      validators.account(account);
      return q.listOrders(db, account, validators.listOrders<ListOrdersQuery>(query));
    },

    accountTrades: async (account, query = {}) => {
      validators.account(account);
      return q.accountTrades(db, account, validators.accountTrades<PageQuery & { symbol?: string }>(query));
    },

    balance: async (account) => q.balance(db, validators.account(account)),
    positions: async (account) => q.positions(db, validators.account(account)),
    cashMovements: async (account, query = {}) => {
      validators.account(account);
      return q.cashMovements(db, account, validators.page<PageQuery>(query));
    },

    symbolTrades: async (symbol, query = {}) => {
      validators.symbol(symbol);
      return q.symbolTrades(db, symbol, validators.symbolTrades<PageQuery>(query));
    },
  };
}

export function createHandlers(ctx: HandlerContext): OrdersClient {
  const { sequencer } = ctx;
  // every read waits for the projection first
  const db: Queryable = {
    query: async (sql, params, options) => {
      await ctx.fresh();
      return ctx.db.query(sql, params, options);
    },
    exec: (sql) => ctx.db.exec(sql),
  };

  async function apply(
    input: CommandInput,
    idempotencyKey?: string,
    clientOrderId?: string,
    old?: { kind: KeyKind; account: string; key: string },
  ): Promise<SubmitOutcome> {
    if (old !== undefined) {
      const seq = await ctx.findOldKey(old.kind, old.account, old.key);
      if (seq !== null) return { kind: 'duplicate', seq };
    }
    return sequencer.submit(input, { idempotencyKey, clientOrderId });
  }

  /** The original outcome of a keyed command, or 409 if the key was used for something else. */
  async function original(seq: number, input: CommandInput, key: string) {
    const entry = await journalEntry(db, seq);
    if (!entry || !sameIntent(entry.command, input))
      throw idempotencyKeyReused(key.slice(key.lastIndexOf('/') + 1));
    return entry;
  }

  async function submitOrder(account: string, request: NewOrderRequest): Promise<OrderResult> {
    validators.account(account);
    const r = validators.newOrder<NewOrderRequest>(request);
    const input: CommandInput = newOrderInput(account, r);
    const key = r.clientOrderId === undefined ? undefined : idempotencyKeys.order(account, r.clientOrderId);
    const out = await apply(
      input,
      key,
      r.clientOrderId,
      r.clientOrderId === undefined ? undefined : { kind: 'order', account, key: r.clientOrderId },
    );

    if (out.kind === 'duplicate') {
      const entry = await original(out.seq, input, key!);
      const id = (entry.command as { id: number }).id;
      if (entry.rejectReason !== null) throw rejection(entry.rejectReason, id);
      const order = await q.orderById(db, account, id);
      if (!order) throw orderNotFound(id); // cannot happen: the order row commits with its journal entry
      return { order, replayed: true };
    }

    const { entry } = out;
    const id = (entry.command as { id: number }).id;
    if (entry.rejectReason !== null) throw rejection(entry.rejectReason, id);
    return { order: orderOfEvents(entry.events, id, r)!, replayed: false };
  }

  /**
   * Refuses a cancel/replace of an order that is not the caller's before it reaches the sequencer:
   * journaled, the attempt would be published on the caller's exec subject (and become a
   * notification naming someone else's order id). An order's account never changes, so this check
   * cannot race the command; an open order is in the engine, a closed one in the tables.
   */
  async function requireOwnOrder(account: string, orderId: number): Promise<void> {
    const open = sequencer.engine().order(orderId);
    if (open !== undefined) {
      if (open.account !== account) throw orderNotFound(orderId);
      return;
    }
    if (!(await q.orderById(db, account, orderId))) throw orderNotFound(orderId);
  }

  async function orderCommand(account: string, orderId: number, input: CommandInput): Promise<Order> {
    await requireOwnOrder(account, orderId);
    // read before the command: the id map forgets an order once it closes
    const clientOrderId = ctx.clientOrderIds().get(orderId) ?? null;
    const out = await apply(input);
    const entry = (out as { entry: SequencedCommand }).entry;
    const reason = entry.rejectReason;
    if (reason === 'unknown_order' || reason === 'order_not_open' || reason === 'not_owner') {
      // The engine knows open orders only. Its owner learns that a closed order is closed;
      // anyone else gets 404 whatever the engine said, so no account learns about another's.
      const own = await q.orderById(db, account, orderId);
      throw own ? rejection('order_not_open', orderId) : orderNotFound(orderId);
    }
    if (entry.rejectReason !== null) throw rejection(entry.rejectReason, orderId);
    const last = lastViewOf(entry.events, orderId);
    if (!last) throw orderNotFound(orderId);
    return toOrder(last.view, clientOrderId, null, last.cancelReason);
  }

  async function cash(
    kind: 'deposit' | 'withdraw',
    account: string,
    request: CashRequest,
  ): Promise<CashResult> {
    validators.account(account);
    const { idempotencyKey, ...body } = request;
    const r = validators.cash<{ amount: number }>(body);
    if (idempotencyKey !== undefined) validators.idempotencyKey(idempotencyKey);
    const input: CommandInput = { type: kind, account, amount: r.amount };
    const key = idempotencyKey === undefined ? undefined : idempotencyKeys.cash(account, idempotencyKey);
    const out = await apply(
      input,
      key,
      undefined,
      idempotencyKey === undefined ? undefined : { kind: 'cash', account, key: idempotencyKey },
    );
    if (out.kind === 'duplicate') {
      const entry = await original(out.seq, input, key!);
      if (entry.rejectReason !== null) throw rejection(entry.rejectReason);
      return { seq: entry.seq, replayed: true, balance: await q.balance(db, account) };
    }
    const { entry } = out;
    if (entry.rejectReason !== null) throw rejection(entry.rejectReason);
    const b = entry.events.find((e) => e.type === 'balance' && e.account === account);
    const balance =
      b && b.type === 'balance' ? balanceOf(account, b.cash, b.reserved) : await q.balance(db, account);
    return { seq: entry.seq, replayed: false, balance };
  }

  async function exchangeStatus(): Promise<ExchangeStatus> {
    const row = await q.exchangeRow(db);
    if (row)
      return { session: row.session as SessionState, marketHalted: row.marketHalted, lastSeq: row.lastSeq };
    // nothing ever committed: the engine is still in its initial state, which is the committed one
    const engine = sequencer.engine();
    return { session: engine.session(), marketHalted: engine.marketHalted(), lastSeq: 0 };
  }

  async function admin(input: CommandInput): Promise<SequencedCommand> {
    const out = await apply(input);
    const entry = (out as { entry: SequencedCommand }).entry;
    if (entry.rejectReason !== null) throw rejection(entry.rejectReason);
    return entry;
  }

  return {
    submitOrder,

    cancelOrder: async (account, orderId) => {
      validators.account(account);
      validators.orderId(orderId);
      return orderCommand(account, orderId, { type: 'cancel', account, id: orderId });
    },

    replaceOrder: async (account, orderId, request) => {
      validators.account(account);
      validators.orderId(orderId);
      const r = validators.replace<ReplaceRequest>(request);
      return orderCommand(account, orderId, replaceInput(account, orderId, r));
    },

    ...tableReads(db),

    deposit: (account, request) => cash('deposit', account, request),
    withdraw: (account, request) => cash('withdraw', account, request),

    transferShares: async (account, request: ShareTransferRequest) => {
      validators.account(account);
      const { idempotencyKey, ...body } = request;
      const r = validators.shareTransfer<Omit<ShareTransferRequest, 'idempotencyKey'>>(body);
      if (idempotencyKey !== undefined) validators.idempotencyKey(idempotencyKey);
      const input: CommandInput = {
        type: 'transfer_shares',
        account,
        symbol: r.symbol,
        qty: r.qty,
        cost: r.qty > 0 ? (r.cost ?? 0) : 0,
      };
      const key = idempotencyKey === undefined ? undefined : idempotencyKeys.shares(account, idempotencyKey);
      const out = await apply(
        input,
        key,
        undefined,
        idempotencyKey === undefined ? undefined : { kind: 'shares', account, key: idempotencyKey },
      );
      if (out.kind === 'duplicate') {
        const entry = await original(out.seq, input, key!);
        if (entry.rejectReason !== null) throw rejection(entry.rejectReason);
        return { seq: entry.seq, replayed: true, position: await q.position(db, account, r.symbol) };
      }
      const { entry } = out;
      if (entry.rejectReason !== null) throw rejection(entry.rejectReason);
      const p = entry.events.find(
        (e) => e.type === 'position' && e.account === account && e.symbol === r.symbol,
      );
      const position =
        p && p.type === 'position'
          ? positionOf(account, r.symbol, p.qty, p.reserved, p.cost)
          : await q.position(db, account, r.symbol);
      return { seq: entry.seq, replayed: false, position };
    },

    depth: async (symbol, levels = 10) => {
      validators.symbol(symbol);
      validators.levels(levels);
      const book = ctx.book();
      if (!book.has(symbol)) throw notFound(`unknown symbol ${symbol}`);
      return book.depth(symbol, levels, sequencer.committedSeq());
    },

    instruments: async () => q.instruments(db),
    exchangeStatus,
    storageStatus: () => ctx.storageStatus(),

    addInstrument: async (spec: InstrumentSpec): Promise<Instrument> => {
      const s = validators.instrument<InstrumentSpec>(spec);
      const entry = await admin({ type: 'add_instrument', spec: s });
      const event = entry.events.find((e) => e.type === 'instrument');
      const listed = event && event.type === 'instrument' ? event.spec : s;
      return { ...listed, halted: false, lastTradePrice: null };
    },

    halt: async (request) => {
      const r = validators.halt<{ symbol: string | null; halted: boolean }>(request);
      await admin({ type: 'halt', symbol: r.symbol, halted: r.halted });
      return exchangeStatus();
    },

    setSession: async (state) => {
      validators.session({ state });
      await admin({ type: 'session', state });
      return exchangeStatus();
    },
  };
}

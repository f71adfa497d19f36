/**
 * A shard node speaking the orders service's own API (issue 11): the typed OrdersClient of
 * client.ts, so that `ordersRoutes(createShardOrdersClient(node, reads))` serves the same internal
 * routes, answers and problems as the single service, and `httpOrdersClient` and the balancer work
 * against it unchanged. A router over several nodes is ../sharded-client.ts.
 *
 * Refused before anything runs, as the node's own door does (guards.ts): bad input 400 naming the
 * field; a standby 503 not-leader (the balancer moves to the leader); an account another shard owns,
 * or a symbol another shard books (depth, tape), 421 misdirected naming the owner.
 *
 * Writes go to the account's risk shard (this node) and answer the orders service's shapes:
 *   - submitOrder: held at once (journaled), then the answer waits up to VERDICT_WAIT_MS (2 s) for
 *     the matching shard's verdict: the order as booked or traded, or its refusal as the service's
 *     422 (market_closed, insufficient_funds, …). Without a verdict in time the order is answered
 *     with status `held`: the hold is journaled and the order is on its way to its matching shard
 *     (the model's pending status; `held` otherwise marks an exit leg waiting for its entry), and
 *     its later events reach the owner as usual (orders.exec.<account>). The client order id is the
 *     node's key: a resubmission answers the first order (replayed) from the reads; a different
 *     request under a used key is 409 idempotency-key-reused.
 *   - cancelOrder / replaceOrder: 404 for an unknown order or another account's (checked against the
 *     risk shard's open orders before anything is journaled), 422 order_not_open for the owner's
 *     closed one; then the answer waits the same way for the matching shard's cancellation or
 *     replacement (or refusal); without it in time, the order as it stands, the command on its way.
 *   - deposit / withdraw / transferShares: the node's key is the Idempotency-Key; a repeat answers
 *     the first movement's seq with `replayed`, another request under it is 409. The node scopes
 *     keys by command type, so one key used for a deposit and then a withdrawal is two movements
 *     here, where the single service (one namespace for cash) answers the second 409.
 * Admin (listing, halts, the session) applies to this node only; the router sends it to every node.
 * Reads of orders, trades, cash movements, balances and positions are `reads` (the projection of
 * shard nodes into the orders tables, reads.ts).
 */
import type { NewOrderCommand, RejectReason } from '../../../domain/exchange.ts';
import { matchingShardOf } from '../../../engine/shards/layout.ts';
import type { RiskCommand, RiskEvent } from '../../../engine/shards/risk-shard.ts';
import type { OrdersClient } from '../client.ts';
import {
  lastViewOf,
  newOrderInput,
  orderOfEvents,
  positionOf,
  replaceInput,
  sameIntent,
  toOrder,
} from '../mapping.ts';
import type {
  CashRequest,
  CashResult,
  ExchangeStatus,
  Instrument,
  InstrumentSpec,
  NewOrderRequest,
  Order,
  ReplaceRequest,
  ShareTransferRequest,
} from '../model.ts';
import { commandOrderView } from '../persistence.ts';
import {
  idempotencyKeyReused,
  notFound,
  OrdersApiError,
  orderNotFound,
  problem,
  rejection,
} from '../problems.ts';
import { validators } from '../schemas.ts';
import { requireLeading, requireMine, VERDICT_WAIT_MS } from './guards.ts';
import type { ShardNodeService } from './node-service.ts';
import type { ShardReads } from './reads.ts';

export type { ShardReads } from './reads.ts';

type Rejected = Extract<RiskEvent, { type: 'rejected' }>;

const refusalIn = (events: readonly RiskEvent[], command: string, id?: number): Rejected | undefined =>
  events.find(
    (e): e is Rejected => e.type === 'rejected' && e.command === command && (id === undefined || e.id === id),
  );

const isNotFound = (err: unknown): boolean => err instanceof OrdersApiError && err.problem.status === 404;

export function createShardOrdersClient(node: ShardNodeService, reads: ShardReads): OrdersClient {
  const layout = node.state().layout;

  /** A valid account of this shard, on the leader. */
  function account(id: string): void {
    validators.account(id);
    requireLeading(node);
    requireMine(node, id);
  }

  /** A valid symbol this node books, on the leader. */
  function symbol(s: string): void {
    validators.symbol(s);
    requireLeading(node);
    const owner = matchingShardOf(s, layout);
    if (owner !== node.shard) {
      throw new OrdersApiError(
        problem(421, 'misdirected', 'Symbol of another shard', {
          detail: `symbol ${s} is matched by orders shard ${owner}, not ${node.shard}`,
        }),
      );
    }
  }

  /** The order from the reads, or null while they do not have it. */
  async function known(acct: string, id: number): Promise<Order | null> {
    try {
      return await reads.getOrder(acct, id);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** A keyed command answered from the node's window: 409 if the key was used for another request. */
  async function checkReplay(command: RiskCommand, key: string): Promise<number | null> {
    const original = await node.original(command, key);
    if (original !== null && !sameIntent(original.command, command)) throw idempotencyKeyReused(key);
    return original?.seq ?? null;
  }

  /** An order the risk shard holds, as far as it knows it (the matching shard has not answered yet). */
  function heldOrder(command: NewOrderCommand, id: number, clientOrderId: string | null): Order {
    return toOrder(commandOrderView({ ...command, id, ts: Date.now() }, 'held'), clientOrderId);
  }

  async function submitOrder(acct: string, request: NewOrderRequest) {
    account(acct);
    const r = validators.newOrder<NewOrderRequest>(request);
    // id 0: the node numbers it as it journals it
    const command: NewOrderCommand = { ...newOrderInput(acct, r), ts: 0, id: 0 };
    const { events, replayed } = await node.run(command, r.clientOrderId);
    if (replayed) await checkReplay(command, r.clientOrderId!);
    const refused = refusalIn(events, 'new_order');
    if (refused) throw rejection(refused.reason, refused.id);
    const held = events.find((e) => e.type === 'held')!;
    if (replayed) {
      const first = await known(acct, held.id);
      if (first !== null) {
        if (first.status === 'rejected' && first.rejectReason !== null)
          throw rejection(first.rejectReason, first.id);
        return { order: first, replayed };
      }
    }
    const verdict = await node.answer(held.id, 'new_order', VERDICT_WAIT_MS);
    const clientOrderId = r.clientOrderId ?? null;
    if (verdict === null) return { order: heldOrder(command, held.id, clientOrderId), replayed };
    const refusedThere = refusalIn(verdict, 'new_order', held.id);
    if (refusedThere) throw rejection(refusedThere.reason, held.id);
    const order = orderOfEvents(verdict, held.id, r) ?? heldOrder(command, held.id, clientOrderId);
    return { order, replayed };
  }

  /**
   * Cancel or replace: refused before the journal unless the order is the caller's and open (an
   * attempt on another's order would be published on the caller's exec subject), then routed; the
   * answer is the matching shard's outcome, or the order as it stands if none came in time.
   */
  async function orderCommand(
    acct: string,
    orderId: number,
    command: Extract<RiskCommand, { type: 'cancel' | 'replace' }>,
  ): Promise<Order> {
    const open = node.state().risk.orders.get(orderId);
    if (open === undefined || open.account !== acct) {
      const own = open === undefined ? await known(acct, orderId) : null;
      throw own ? rejection('order_not_open', orderId) : orderNotFound(orderId);
    }
    const clientOrderId = node.clientOrderId(orderId);
    const closedOr = async (reason: RejectReason): Promise<never> => {
      // the order closed on its way (filled, expired): its owner learns it is not open
      if (reason === 'unknown_order' || reason === 'order_not_open')
        throw rejection('order_not_open', orderId);
      throw rejection(reason, orderId);
    };
    const { events } = await node.run(command);
    const refused = refusalIn(events, command.type);
    if (refused) return closedOr(refused.reason);
    const outcome = await node.answer(orderId, command.type, VERDICT_WAIT_MS);
    if (outcome !== null) {
      const refusedThere = refusalIn(outcome, command.type, orderId);
      if (refusedThere) return closedOr(refusedThere.reason);
      const last = lastViewOf(outcome, orderId);
      if (last) return toOrder(last.view, clientOrderId, null, last.cancelReason);
    }
    // no word from the matching shard in time: the order as it stands, the command on its way
    const now = await known(acct, orderId);
    if (now !== null) return now;
    const view = node.state().risk.orders.get(orderId)?.view ?? open.view;
    return toOrder(
      {
        tif: 'day',
        postOnly: false,
        triggered: false,
        filledNotional: 0,
        fees: 0,
        createdAt: 0,
        updatedAt: 0,
        ...view,
        id: orderId,
        account: acct,
        symbol: open.symbol,
      },
      clientOrderId,
    );
  }

  async function cash(kind: 'deposit' | 'withdraw', acct: string, request: CashRequest): Promise<CashResult> {
    validators.account(acct);
    const { idempotencyKey, ...body } = request;
    const r = validators.cash<{ amount: number }>(body);
    if (idempotencyKey !== undefined) validators.idempotencyKey(idempotencyKey);
    account(acct);
    const command: RiskCommand = { type: kind, ts: 0, account: acct, amount: r.amount };
    const { events, replayed, seq: journaled } = await node.run(command, idempotencyKey);
    const seq = replayed ? await checkReplay(command, idempotencyKey!) : journaled;
    const refused = refusalIn(events, kind);
    if (refused) throw rejection(refused.reason);
    return { seq: seq ?? node.seq(), replayed, balance: await reads.balance(acct) };
  }

  async function exchangeStatus(): Promise<ExchangeStatus> {
    requireLeading(node);
    const x = node.state().matching.exchange;
    return { session: x.session(), marketHalted: x.marketHalted(), lastSeq: node.seq() };
  }

  /** An administration command on this node; the engine's refusal (from either side) is its 422. */
  async function admin(command: Parameters<ShardNodeService['admin']>[0]) {
    requireLeading(node);
    const step = await node.admin(command);
    const refused = [...step.events, ...step.market].find((e): e is Rejected => e.type === 'rejected');
    if (refused) throw rejection(refused.reason);
    return step;
  }

  return {
    submitOrder,

    cancelOrder: async (acct, orderId) => {
      account(acct);
      validators.orderId(orderId);
      return orderCommand(acct, orderId, { type: 'cancel', ts: 0, account: acct, id: orderId });
    },

    replaceOrder: async (acct, orderId, request) => {
      account(acct);
      validators.orderId(orderId);
      const r = validators.replace<ReplaceRequest>(request);
      return orderCommand(acct, orderId, { ...replaceInput(acct, orderId, r), ts: 0 });
    },

    getOrder: async (acct, orderId) => {
      account(acct);
      return reads.getOrder(acct, orderId);
    },
    getOrderByClientId: async (acct, clientOrderId) => {
      account(acct);
      return reads.getOrderByClientId(acct, clientOrderId);
    },
    listOrders: async (acct, query) => {
      account(acct);
      return reads.listOrders(acct, query);
    },
    accountTrades: async (acct, query) => {
      account(acct);
      return reads.accountTrades(acct, query);
    },
    balance: async (acct) => {
      account(acct);
      return reads.balance(acct);
    },
    positions: async (acct) => {
      account(acct);
      return reads.positions(acct);
    },
    cashMovements: async (acct, query) => {
      account(acct);
      return reads.cashMovements(acct, query);
    },

    deposit: (acct, request) => cash('deposit', acct, request),
    withdraw: (acct, request) => cash('withdraw', acct, request),

    transferShares: async (acct, request: ShareTransferRequest) => {
      validators.account(acct);
      const { idempotencyKey, ...body } = request;
      const r = validators.shareTransfer<Omit<ShareTransferRequest, 'idempotencyKey'>>(body);
      if (idempotencyKey !== undefined) validators.idempotencyKey(idempotencyKey);
      account(acct);
      const command: RiskCommand = {
        type: 'transfer_shares',
        ts: 0,
        account: acct,
        symbol: r.symbol,
        qty: r.qty,
        cost: r.qty > 0 ? (r.cost ?? 0) : 0,
      };
      const { events, replayed, seq: journaled } = await node.run(command, idempotencyKey);
      const seq = replayed ? await checkReplay(command, idempotencyKey!) : journaled;
      const refused = refusalIn(events, 'transfer_shares');
      if (refused) throw rejection(refused.reason);
      const position =
        (await reads.positions(acct)).find((p) => p.symbol === r.symbol) ??
        positionOf(acct, r.symbol, 0, 0, 0);
      return { seq: seq ?? node.seq(), replayed, position };
    },

    symbolTrades: async (s, query) => {
      symbol(s);
      return reads.symbolTrades(s, query);
    },

    /**
     * The matching engine's book. Unlike the single service's committed book, it may include the
     * batch being journaled at this moment; a journal write that fails stops the node (fenced), so
     * that batch is then never seen again.
     */
    depth: async (s, levels = 10) => {
      symbol(s);
      validators.levels(levels);
      const x = node.state().matching.exchange;
      if (x.instrument(s) === undefined) throw notFound(`unknown symbol ${s}`);
      const { bids, asks } = x.depth(s, levels);
      return { symbol: s, bids, asks, seq: node.seq() };
    },

    /** The instruments this node books (each node lists every instrument, but books only its own). */
    instruments: async (): Promise<Instrument[]> => {
      requireLeading(node);
      return node
        .state()
        .matching.exchange.instruments()
        .map((i) => ({ ...i.spec, halted: i.halted, lastTradePrice: i.lastTradePrice }))
        .sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
    },
    exchangeStatus,
    storageStatus: async () => {
      requireLeading(node);
      return node.storageStatus();
    },

    addInstrument: async (spec: InstrumentSpec): Promise<Instrument> => {
      const s = validators.instrument<InstrumentSpec>(spec);
      const step = await admin({ type: 'add_instrument', ts: 0, spec: s });
      const event = step.market.find((e) => e.type === 'instrument');
      const listed = event && event.type === 'instrument' ? event.spec : s;
      return { ...listed, halted: false, lastTradePrice: null };
    },

    halt: async (request) => {
      const r = validators.halt<{ symbol: string | null; halted: boolean }>(request);
      if (r.symbol !== null) symbol(r.symbol);
      await admin({ type: 'halt', ts: 0, symbol: r.symbol, halted: r.halted });
      return exchangeStatus();
    },

    setSession: async (state) => {
      validators.session({ state });
      await admin({ type: 'session', ts: 0, state });
      return exchangeStatus();
    },
  };
}

/**
 * A risk shard: the accounts that hash to it — cash, positions and what their orders hold at the
 * matching shards. An order is checked and its holding taken here (the acknowledgement: `held`),
 * then routed to its symbol's matching shard with that holding; what comes back (unused holdings,
 * proceeds, bought shares, fees) is credited from the matching shard's settle messages, each
 * applied once and in order.
 *
 * Per account: cash + pending + Σ kept = everything it owns, where `pending` is what was routed
 * and not yet confirmed, and `kept` what each matching shard last said it keeps (its reservations).
 */
import type {
  AddInstrumentCommand,
  CancelCommand,
  DepositCommand,
  EngineEvent,
  ExchangeConfig,
  NewOrderCommand,
  OrderView,
  RejectReason,
  ReplaceCommand,
  TransferSharesCommand,
  WithdrawCommand,
} from '../../domain/exchange.ts';
import { isNonNegativeInt, isPositiveInt, mulDivFloor } from '../arith.ts';
import { validInstrument } from '../validation.ts';
import { createInbox, type Envelope, envelope, type Inbox, type Outbox, receive } from './channel.ts';
import { matchingShardOf, riskShardOf, type ShardLayout } from './layout.ts';
import { type Funding, type Holding, NO_FUNDING, type RouteBody, type SettleBody } from './messages.ts';
import { orderNeed, type PriceContext } from './need.ts';

export interface RiskAccount {
  readonly id: string;
  /** cents here, free */
  cash: number;
  /** shares here, free, with their cost basis */
  readonly positions: Map<string, { qty: number; cost: number }>;
  /** routed with an order, not yet confirmed by the matching shard */
  pendingCash: number;
  readonly pendingShares: Map<string, number>;
  /** per matching shard: what it last said it keeps for this account */
  readonly kept: Map<number, { cash: number; shares: Holding[] }>;
}

/** The owner's view of an open order: enough to check a cancel or replace and to size a replace's holding. */
export interface RiskOrder {
  id: number;
  account: string;
  symbol: string;
  view: Pick<
    OrderView,
    'side' | 'orderType' | 'qty' | 'filledQty' | 'price' | 'stopPrice' | 'status' | 'trailPrice' | 'trailBps'
  >;
}

export type RiskCommand =
  | DepositCommand
  | WithdrawCommand
  | TransferSharesCommand
  | AddInstrumentCommand
  | NewOrderCommand
  | CancelCommand
  | ReplaceCommand;

/** The acknowledgement of an order: checked and held here, routed to its matching shard. */
export interface HeldEvent {
  type: 'held';
  id: number;
  account: string;
  symbol: string;
  cash: number;
  shares: number;
}

export type RiskEvent = HeldEvent | EngineEvent;

export interface RiskShard {
  readonly shard: number;
  readonly layout: ShardLayout;
  readonly config: ExchangeConfig;
  readonly accounts: Map<string, RiskAccount>;
  readonly instruments: Map<string, PriceContext>;
  readonly orders: Map<number, RiskOrder>;
  lastOrderId: number;
  readonly outbox: Outbox;
  readonly inbox: Inbox<SettleBody>;
}

export interface RiskOutput {
  events: RiskEvent[];
  messages: Envelope<RouteBody>[];
}

export function createRiskShard(config: ExchangeConfig, shard: number, layout: ShardLayout): RiskShard {
  const r: RiskShard = {
    shard,
    layout,
    config,
    accounts: new Map(),
    instruments: new Map(),
    orders: new Map(),
    lastOrderId: 0,
    outbox: new Map(),
    inbox: createInbox(),
  };
  if (riskShardOf(config.feeAccount, layout) === shard) openAccount(r, config.feeAccount);
  return r;
}

function openAccount(r: RiskShard, id: string): RiskAccount {
  let a = r.accounts.get(id);
  if (a === undefined) {
    a = { id, cash: 0, positions: new Map(), pendingCash: 0, pendingShares: new Map(), kept: new Map() };
    r.accounts.set(id, a);
  }
  return a;
}

function reject(c: RiskCommand, reason: RejectReason): RiskOutput {
  const ev: EngineEvent = { type: 'rejected', command: c.type, reason };
  if ('id' in c) ev.id = c.id;
  if ('account' in c) ev.account = c.account;
  return { events: [ev], messages: [] };
}

const NOTHING: RiskOutput = { events: [], messages: [] };

export function applyRisk(r: RiskShard, c: RiskCommand): RiskOutput {
  if ('account' in c && riskShardOf(c.account, r.layout) !== r.shard) return reject(c, 'unknown_account');
  switch (c.type) {
    case 'add_instrument': {
      if (!validInstrument(c.spec)) return reject(c, 'invalid_instrument');
      if (r.instruments.has(c.spec.symbol)) return reject(c, 'duplicate_symbol');
      const fees = c.spec.fees ?? r.config.fees;
      r.instruments.set(c.spec.symbol, {
        spec: { ...c.spec },
        ref: c.spec.referencePrice,
        refTradeId: 0,
        reserveBps: Math.max(fees.makerBps, fees.takerBps),
      });
      return NOTHING;
    }
    case 'deposit': {
      if (typeof c.account !== 'string' || c.account.length === 0) return reject(c, 'unknown_account');
      const cash = r.accounts.get(c.account)?.cash ?? 0;
      if (!isPositiveInt(c.amount) || !Number.isSafeInteger(cash + c.amount))
        return reject(c, 'invalid_amount');
      openAccount(r, c.account).cash += c.amount;
      return NOTHING;
    }
    case 'withdraw': {
      const a = r.accounts.get(c.account);
      if (a === undefined) return reject(c, 'unknown_account');
      if (!isPositiveInt(c.amount)) return reject(c, 'invalid_amount');
      if (c.amount > a.cash) return reject(c, 'insufficient_funds');
      a.cash -= c.amount;
      return NOTHING;
    }
    case 'transfer_shares':
      return transferShares(r, c);
    case 'new_order':
      return newOrder(r, c);
    case 'cancel': {
      const problem = ownOrder(r, c.id, c.account);
      if (problem !== null) return reject(c, problem);
      const o = r.orders.get(c.id)!;
      return route(r, o.symbol, { kind: 'cancel', ts: c.ts, id: c.id, account: c.account });
    }
    case 'replace':
      return replace(r, c);
    default:
      return reject(c, 'invalid_quantity');
  }
}

function transferShares(r: RiskShard, c: TransferSharesCommand): RiskOutput {
  const a = r.accounts.get(c.account);
  if (a === undefined || c.account === r.config.feeAccount) return reject(c, 'unknown_account');
  if (!r.instruments.has(c.symbol)) return reject(c, 'unknown_symbol');
  if (!Number.isSafeInteger(c.qty) || c.qty === 0) return reject(c, 'invalid_quantity');
  const p = a.positions.get(c.symbol);
  if (c.qty > 0) {
    if (!isNonNegativeInt(c.cost)) return reject(c, 'invalid_amount');
    if (p === undefined) a.positions.set(c.symbol, { qty: c.qty, cost: c.cost });
    else {
      p.qty += c.qty;
      p.cost += c.cost;
    }
    return NOTHING;
  }
  if (p === undefined || p.qty < -c.qty) return reject(c, 'insufficient_shares');
  takeShares(a, c.symbol, -c.qty);
  return NOTHING;
}

/** Remove shares here; the cost basis goes in proportion (rounded down), as in the engine. Returns that cost. */
function takeShares(a: RiskAccount, symbol: string, qty: number): number {
  const p = a.positions.get(symbol)!;
  const cost = qty === p.qty ? p.cost : mulDivFloor(p.cost, qty, p.qty);
  p.qty -= qty;
  p.cost -= cost;
  if (p.qty === 0) a.positions.delete(symbol);
  return cost;
}

function newOrder(r: RiskShard, c: NewOrderCommand): RiskOutput {
  if (!Number.isSafeInteger(c.id) || c.id <= r.lastOrderId) return reject(c, 'duplicate_order_id');
  const inst = r.instruments.get(c.symbol);
  if (inst === undefined) return reject(c, 'unknown_symbol');
  const a = r.accounts.get(c.account);
  if (a === undefined || c.account === r.config.feeAccount) return reject(c, 'unknown_account');
  if (!isPositiveInt(c.qty)) return reject(c, 'invalid_quantity');
  const need = orderNeed(c, inst);
  if (!Number.isSafeInteger(need.cash)) return reject(c, 'invalid_quantity');
  const problem = takeHolding(a, c.symbol, need);
  if (typeof problem === 'string') return reject(c, problem);
  r.lastOrderId = c.id;
  r.orders.set(c.id, {
    id: c.id,
    account: c.account,
    symbol: c.symbol,
    view: {
      side: c.side,
      orderType: c.orderType,
      qty: c.qty,
      filledQty: 0,
      price: c.price ?? 0,
      stopPrice: c.stopPrice ?? 0,
      status: 'new',
      ...(c.trailPrice !== undefined ? { trailPrice: c.trailPrice } : {}),
      ...(c.trailBps !== undefined ? { trailBps: c.trailBps } : {}),
    },
  });
  const held: HeldEvent = {
    type: 'held',
    id: c.id,
    account: c.account,
    symbol: c.symbol,
    cash: problem.cash,
    shares: problem.shares,
  };
  const out = route(r, c.symbol, { kind: 'new_order', ts: c.ts, order: c, fund: problem });
  out.events.unshift(held);
  return out;
}

/** Move what an order needs out of the free balance into `pending`; the funding to send with it. */
function takeHolding(
  a: RiskAccount,
  symbol: string,
  need: { cash: number; shares: number },
): Funding | RejectReason {
  if (need.cash > a.cash) return 'insufficient_funds';
  if (need.shares > 0 && (a.positions.get(symbol)?.qty ?? 0) < need.shares) return 'insufficient_shares';
  a.cash -= need.cash;
  a.pendingCash += need.cash;
  let cost = 0;
  if (need.shares > 0) {
    cost = takeShares(a, symbol, need.shares);
    a.pendingShares.set(symbol, (a.pendingShares.get(symbol) ?? 0) + need.shares);
  }
  if (need.cash === 0 && need.shares === 0) return NO_FUNDING;
  return { cash: need.cash, symbol: need.shares > 0 ? symbol : '', shares: need.shares, cost };
}

function ownOrder(r: RiskShard, id: number, account: string): RejectReason | null {
  const o = r.orders.get(id);
  if (o === undefined) return 'unknown_order';
  return o.account === account ? null : 'not_owner';
}

/** Holds the increase of what the order may need (as this shard sees the order now) and routes the replace. */
function replace(r: RiskShard, c: ReplaceCommand): RiskOutput {
  const problem = ownOrder(r, c.id, c.account);
  if (problem !== null) return reject(c, problem);
  const o = r.orders.get(c.id)!;
  const inst = r.instruments.get(o.symbol)!;
  const before = leavesNeed(o.view, inst);
  const changed = {
    ...o.view,
    qty: c.qty ?? o.view.qty,
    price: c.price ?? o.view.price,
    stopPrice: c.stopPrice ?? o.view.stopPrice,
    ...(c.trailPrice !== undefined ? { trailPrice: c.trailPrice, trailBps: 0 } : {}),
    ...(c.trailBps !== undefined ? { trailBps: c.trailBps, trailPrice: 0 } : {}),
  };
  if (!isPositiveInt(changed.qty) || changed.qty <= changed.filledQty) return reject(c, 'invalid_replace');
  const after = leavesNeed(changed, inst);
  if (!Number.isSafeInteger(after.cash)) return reject(c, 'invalid_quantity');
  const more = {
    cash: Math.max(0, after.cash - before.cash),
    shares: Math.max(0, after.shares - before.shares),
  };
  const fund = takeHolding(r.accounts.get(c.account)!, o.symbol, more);
  if (typeof fund === 'string') return reject(c, fund);
  return route(r, o.symbol, { kind: 'replace', ts: c.ts, command: c, fund });
}

function leavesNeed(v: RiskOrder['view'], p: PriceContext) {
  const shape: Parameters<typeof orderNeed>[0] = {
    side: v.side,
    orderType: v.orderType,
    qty: v.qty - v.filledQty,
  };
  if (v.price > 0) shape.price = v.price;
  if (v.stopPrice > 0) shape.stopPrice = v.stopPrice;
  if (v.trailPrice !== undefined && v.trailPrice > 0) shape.trailPrice = v.trailPrice;
  if (v.trailBps !== undefined && v.trailBps > 0) shape.trailBps = v.trailBps;
  return orderNeed(shape, p);
}

function route(r: RiskShard, symbol: string, body: RouteBody): RiskOutput {
  const to = matchingShardOf(symbol, r.layout);
  return { events: [], messages: [envelope(r.outbox, r.shard, to, body)] };
}

/**
 * A matching shard's settle message: applied once, in its sender's order. `accounts`: those whose
 * holdings it changed (an early arrival changes none; a gap filled may apply several messages).
 */
export function deliverSettle(r: RiskShard, env: Envelope<SettleBody>): RiskOutput & { accounts: string[] } {
  const events: RiskEvent[] = [];
  const accounts: string[] = [];
  for (const body of receive(r.inbox, env)) {
    const a = openAccount(r, body.account);
    accounts.push(body.account);
    a.pendingCash -= body.funded.cash;
    if (body.funded.shares > 0) {
      const left = (a.pendingShares.get(body.funded.symbol) ?? 0) - body.funded.shares;
      if (left === 0) a.pendingShares.delete(body.funded.symbol);
      else a.pendingShares.set(body.funded.symbol, left);
    }
    a.cash += body.cash;
    for (const h of body.shares) {
      const p = a.positions.get(h.symbol);
      if (p === undefined) a.positions.set(h.symbol, { qty: h.qty, cost: h.cost });
      else {
        p.qty += h.qty;
        p.cost += h.cost;
      }
    }
    if (body.keptCash === 0 && body.keptShares.length === 0) a.kept.delete(env.from);
    else a.kept.set(env.from, { cash: body.keptCash, shares: body.keptShares });
    for (const ev of body.events) {
      track(r, ev);
      events.push(ev);
    }
  }
  return { events, messages: [], accounts };
}

/** Keep the owner's view of open orders (legs appear here first as `accepted` from the matching shard). */
function track(r: RiskShard, ev: EngineEvent): void {
  if (ev.type === 'fill') {
    // settle messages come per account, so a later message may carry an earlier trade
    const inst = r.instruments.get(ev.order.symbol);
    if (inst !== undefined && ev.tradeId > inst.refTradeId) {
      inst.ref = ev.price;
      inst.refTradeId = ev.tradeId;
    }
  }
  if (!('order' in ev)) {
    if (ev.type === 'rejected' && ev.command === 'new_order' && ev.id !== undefined) r.orders.delete(ev.id);
    return;
  }
  const v = ev.order;
  if (v.status === 'filled' || v.status === 'canceled' || v.status === 'expired' || v.status === 'rejected') {
    r.orders.delete(v.id);
    return;
  }
  r.orders.set(v.id, { id: v.id, account: v.account, symbol: v.symbol, view: { ...v } });
}

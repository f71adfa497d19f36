/**
 * A matching shard: the books of its symbols, run by the unchanged exchange engine. An account
 * exists here only as what its routed orders hold: a routed order's funding is moved in, the
 * order placed, and after every command whatever an account's open orders here no longer hold
 * (the unused part of a holding, a sale's proceeds, bought shares, fees) is moved home to its risk
 * shard. So cash never sits idle here, and an investor's buying power is never split across shards.
 */
import type {
  AddInstrumentCommand,
  EngineEvent,
  ExchangeConfig,
  HaltCommand,
  OrderView,
  SessionCommand,
} from '../../domain/exchange.ts';
import { idsTaken } from '../../domain/exchange.ts';
import type { Exchange } from '../api.ts';
import { createExchange } from '../exchange.ts';
import { createInbox, type Envelope, envelope, type Inbox, type Outbox, receive } from './channel.ts';
import { qualifiedId, riskShardOf, type ShardLayout } from './layout.ts';
import { type Funding, type Holding, NO_FUNDING, type RouteBody, type SettleBody } from './messages.ts';

/** The engine ids of one routed order (entry and legs) and the ids its risk shard gave them. */
interface IdGroup {
  engineBase: number;
  riskBase: number;
  size: number;
  finished: Set<number>;
}

export interface MatchingShard {
  readonly shard: number;
  readonly layout: ShardLayout;
  readonly config: ExchangeConfig;
  readonly exchange: Exchange;
  readonly inbox: Inbox<RouteBody>;
  readonly outbox: Outbox;
  /** next engine order id */
  nextId: number;
  readonly byEngineId: Map<number, IdGroup>;
  readonly byRiskId: Map<number, IdGroup>;
}

export interface ShardOutput<T> {
  /** public events (trades, books, orders with the risk shards' ids); balances stay inside */
  events: EngineEvent[];
  messages: Envelope<T>[];
}

const FINAL = new Set(['filled', 'canceled', 'expired', 'rejected']);

export function createMatchingShard(
  config: ExchangeConfig,
  shard: number,
  layout: ShardLayout,
): MatchingShard {
  return {
    shard,
    layout,
    config,
    exchange: createExchange(config),
    inbox: createInbox(),
    outbox: new Map(),
    nextId: 1,
    byEngineId: new Map(),
    byRiskId: new Map(),
  };
}

/** Listing, halts and the session are sent to the matching shard directly. */
export function applyAdmin(
  m: MatchingShard,
  c: AddInstrumentCommand | HaltCommand | SessionCommand,
): ShardOutput<SettleBody> {
  const events = m.exchange.apply(c).slice();
  return settle(m, c.ts, events, null);
}

/** A message from a risk shard: applied in the sender's order, once, whatever the transport did. */
export function deliverRoute(m: MatchingShard, env: Envelope<RouteBody>): ShardOutput<SettleBody> {
  const out: ShardOutput<SettleBody> = { events: [], messages: [] };
  for (const body of receive(m.inbox, env)) {
    const step = applyRoute(m, body);
    out.events.push(...step.events);
    out.messages.push(...step.messages);
  }
  return out;
}

function applyRoute(m: MatchingShard, body: RouteBody): ShardOutput<SettleBody> {
  const x = m.exchange;
  if (body.kind === 'cancel') {
    const group = m.byRiskId.get(body.id);
    if (group === undefined) {
      return settle(m, body.ts, [notOpen('cancel', body.id, body.account)], null);
    }
    const id = group.engineBase + (body.id - group.riskBase);
    return settle(
      m,
      body.ts,
      x.apply({ type: 'cancel', ts: body.ts, id, account: body.account }).slice(),
      null,
    );
  }
  const account = body.kind === 'new_order' ? body.order.account : body.command.account;
  const funded = { account, fund: body.fund };
  const moved = fundIn(x, body.ts, account, body.fund);
  if (body.kind === 'replace') {
    const group = m.byRiskId.get(body.command.id);
    if (group === undefined) {
      return settle(m, body.ts, [...moved, notOpen('replace', body.command.id, account)], funded);
    }
    const id = group.engineBase + (body.command.id - group.riskBase);
    const events = x.apply({ ...body.command, ts: body.ts, id }).slice();
    return settle(m, body.ts, [...moved, ...events], funded);
  }
  const order = body.order;
  const size = idsTaken(order);
  const group: IdGroup = { engineBase: m.nextId, riskBase: order.id, size, finished: new Set() };
  m.nextId += size;
  for (let k = 0; k < size; k++) {
    m.byEngineId.set(group.engineBase + k, group);
    m.byRiskId.set(group.riskBase + k, group);
  }
  const events = x.apply({ ...order, ts: body.ts, id: group.engineBase }).slice();
  return settle(m, body.ts, [...moved, ...events], funded);
}

function notOpen(command: 'cancel' | 'replace', id: number, account: string): EngineEvent {
  return { type: 'rejected', command, id, account, reason: 'unknown_order' };
}

function fundIn(x: Exchange, ts: number, account: string, fund: Funding): EngineEvent[] {
  const events = x.apply({ type: 'open_account', ts, account }).slice();
  if (fund.cash > 0) events.push(...x.apply({ type: 'deposit', ts, account, amount: fund.cash }));
  if (fund.shares > 0) {
    events.push(
      ...x.apply({
        type: 'transfer_shares',
        ts,
        account,
        symbol: fund.symbol,
        qty: fund.shares,
        cost: fund.cost,
      }),
    );
  }
  return events;
}

/**
 * Map the command's events to the risk shards' ids, move home what is no longer held, and tell
 * each touched account's risk shard (the funded account always: it confirms the funding).
 */
function settle(
  m: MatchingShard,
  ts: number,
  raw: EngineEvent[],
  funded: { account: string; fund: Funding } | null,
): ShardOutput<SettleBody> {
  const events: EngineEvent[] = [];
  const touched = new Set<string>();
  if (funded !== null) touched.add(funded.account);
  for (const ev of raw) {
    if (ev.type === 'balance' || ev.type === 'position') {
      touched.add(ev.account);
      continue;
    }
    events.push(mapIds(m, ev));
  }
  forgetFinished(m, raw);
  const messages: Envelope<SettleBody>[] = [];
  for (const account of [...touched].sort()) {
    const home = sweep(m.exchange, ts, account);
    const body: SettleBody = {
      account,
      funded: funded !== null && funded.account === account ? funded.fund : NO_FUNDING,
      ...home,
      events: events.filter((ev) => accountOf(ev) === account),
    };
    messages.push(envelope(m.outbox, m.shard, riskShardOf(account, m.layout), body));
  }
  return { events, messages };
}

function accountOf(ev: EngineEvent): string | undefined {
  if ('order' in ev) return ev.order.account;
  if (ev.type === 'rejected') return ev.account;
  return undefined;
}

function sweep(
  x: Exchange,
  ts: number,
  account: string,
): Pick<SettleBody, 'cash' | 'shares' | 'keptCash' | 'keptShares'> {
  const a = x.account(account);
  let cash = 0;
  if (a !== undefined && a.cash > a.reserved) {
    cash = a.cash - a.reserved;
    x.apply({ type: 'withdraw', ts, account, amount: cash });
  }
  const shares: Holding[] = [];
  const keptShares: Holding[] = [];
  for (const p of x.positions(account)) {
    const free = p.qty - p.reserved;
    let after = p;
    if (free > 0) {
      x.apply({ type: 'transfer_shares', ts, account, symbol: p.symbol, qty: -free, cost: 0 });
      after = x.position(account, p.symbol) ?? { ...p, qty: 0, reserved: 0, cost: 0 };
      shares.push({ symbol: p.symbol, qty: free, cost: p.cost - after.cost });
    }
    if (after.qty > 0) keptShares.push({ symbol: p.symbol, qty: after.qty, cost: after.cost });
  }
  return { cash, shares, keptCash: x.account(account)?.cash ?? 0, keptShares };
}

function mapView(m: MatchingShard, o: OrderView): OrderView {
  const view = { ...o, id: riskId(m, o.id) };
  if (o.parentId !== undefined) view.parentId = riskId(m, o.parentId);
  return view;
}

const tradeIdOf = (m: MatchingShard, engineTradeId: number): number =>
  qualifiedId(engineTradeId, m.shard, m.layout.matchingShards);

function riskId(m: MatchingShard, engineId: number): number {
  const g = m.byEngineId.get(engineId);
  return g === undefined ? engineId : g.riskBase + (engineId - g.engineBase);
}

/**
 * The platform's ids: orders as their risk shards numbered them, trades unique across matching
 * shards (each engine counts its own from 1). Done here, once, so that the owners' fills, the
 * published trades and the tables all carry the same trade id.
 */
function mapIds(m: MatchingShard, ev: EngineEvent): EngineEvent {
  if (ev.type === 'fill') return { ...ev, tradeId: tradeIdOf(m, ev.tradeId), order: mapView(m, ev.order) };
  if ('order' in ev) return { ...ev, order: mapView(m, ev.order) };
  if (ev.type === 'trade') {
    return {
      ...ev,
      tradeId: tradeIdOf(m, ev.tradeId),
      buyOrderId: riskId(m, ev.buyOrderId),
      sellOrderId: riskId(m, ev.sellOrderId),
    };
  }
  if (ev.type === 'rejected' && ev.id !== undefined) return { ...ev, id: riskId(m, ev.id) };
  return ev;
}

/** An order group's ids are forgotten once every order in it is done (or the order was refused). */
function forgetFinished(m: MatchingShard, raw: EngineEvent[]): void {
  const groups = new Set<IdGroup>();
  for (const ev of raw) {
    if ('order' in ev && FINAL.has(ev.order.status)) {
      const g = m.byEngineId.get(ev.order.id);
      if (g !== undefined) {
        g.finished.add(ev.order.id);
        groups.add(g);
      }
    } else if (ev.type === 'rejected' && ev.command === 'new_order' && ev.id !== undefined) {
      const g = m.byEngineId.get(ev.id);
      if (g !== undefined) {
        for (let k = 0; k < g.size; k++) g.finished.add(g.engineBase + k);
        groups.add(g);
      }
    }
  }
  for (const g of groups) {
    if (g.finished.size < g.size) continue;
    for (let k = 0; k < g.size; k++) {
      m.byEngineId.delete(g.engineBase + k);
      m.byRiskId.delete(g.riskBase + k);
    }
  }
}

/**
 * A shard node's whole state as plain, JSON-safe data, and back: the matching side's engine
 * snapshot (the single engine's own format) plus the risk side's accounts, open orders, instrument
 * prices and both sides' channel positions. Restored, a node behaves exactly as the one captured
 * (a property test replays the same inputs into both).
 */
import type { ExchangeConfig } from '../../domain/exchange.ts';
import type { EngineSnapshot } from '../api.ts';
import { createExchange } from '../exchange.ts';
import type { Inbox } from './channel.ts';
import type { ShardLayout } from './layout.ts';
import type { MatchingShard } from './matching-shard.ts';
import type { Holding, RouteBody, SettleBody } from './messages.ts';
import type { PriceContext } from './need.ts';
import type { ShardNode } from './node.ts';
import type { RiskAccount, RiskOrder, RiskShard } from './risk-shard.ts';

export const NODE_SNAPSHOT_FORMAT = 1;

interface InboxData<T> {
  applied: [number, number][];
  early: [number, [number, T][]][];
}

export interface NodeSnapshot {
  format: number;
  shard: number;
  layout: ShardLayout;
  risk: {
    accounts: {
      id: string;
      cash: number;
      positions: [string, { qty: number; cost: number }][];
      pendingCash: number;
      pendingShares: [string, number][];
      kept: [number, { cash: number; shares: Holding[] }][];
    }[];
    instruments: [string, PriceContext][];
    orders: RiskOrder[];
    lastOrderId: number;
    outbox: [number, number][];
    inbox: InboxData<SettleBody>;
  };
  matching: {
    exchange: EngineSnapshot;
    nextId: number;
    /** [engineBase, riskBase, size, finished engine ids] */
    groups: [number, number, number, number[]][];
    outbox: [number, number][];
    inbox: InboxData<RouteBody>;
  };
}

const inboxData = <T>(inbox: Inbox<T>): InboxData<T> => ({
  applied: [...inbox.applied],
  early: [...inbox.early].map(([from, m]) => [from, [...m]]),
});

const inboxOf = <T>(d: InboxData<T>): Inbox<T> => ({
  applied: new Map(d.applied),
  early: new Map(d.early.map(([from, m]) => [from, new Map(m)])),
});

/** A copy: later changes to the node do not reach it. */
export function captureNode(node: ShardNode): NodeSnapshot {
  const r = node.risk;
  const m = node.matching;
  const groups = new Set(m.byEngineId.values());
  return structuredClone({
    format: NODE_SNAPSHOT_FORMAT,
    shard: node.shard,
    layout: node.layout,
    risk: {
      accounts: [...r.accounts.values()].map((a) => ({
        id: a.id,
        cash: a.cash,
        positions: [...a.positions],
        pendingCash: a.pendingCash,
        pendingShares: [...a.pendingShares],
        kept: [...a.kept],
      })),
      instruments: [...r.instruments],
      orders: [...r.orders.values()],
      lastOrderId: r.lastOrderId,
      outbox: [...r.outbox],
      inbox: inboxData(r.inbox),
    },
    matching: {
      exchange: m.exchange.snapshot(),
      nextId: m.nextId,
      groups: [...groups].map((g) => [g.engineBase, g.riskBase, g.size, [...g.finished]]),
      outbox: [...m.outbox],
      inbox: inboxData(m.inbox),
    },
  } satisfies NodeSnapshot);
}

/** The node a snapshot was taken of; throws on a format it cannot read or another shard's snapshot. */
export function restoreNode(config: ExchangeConfig, snapshot: NodeSnapshot, shard: number): ShardNode {
  if (snapshot.format !== NODE_SNAPSHOT_FORMAT) throw new Error(`shard snapshot format ${snapshot.format}`);
  if (snapshot.shard !== shard) throw new Error(`a snapshot of shard ${snapshot.shard}, not ${shard}`);
  const s = structuredClone(snapshot);
  const layout = s.layout;
  const accounts = new Map<string, RiskAccount>();
  for (const a of s.risk.accounts) {
    accounts.set(a.id, {
      id: a.id,
      cash: a.cash,
      positions: new Map(a.positions),
      pendingCash: a.pendingCash,
      pendingShares: new Map(a.pendingShares),
      kept: new Map(a.kept),
    });
  }
  const risk: RiskShard = {
    shard,
    layout,
    config,
    accounts,
    instruments: new Map(s.risk.instruments),
    orders: new Map(s.risk.orders.map((o) => [o.id, o])),
    lastOrderId: s.risk.lastOrderId,
    outbox: new Map(s.risk.outbox),
    inbox: inboxOf(s.risk.inbox),
  };
  const matching: MatchingShard = {
    shard,
    layout,
    config,
    exchange: createExchange(config, s.matching.exchange),
    inbox: inboxOf(s.matching.inbox),
    outbox: new Map(s.matching.outbox),
    nextId: s.matching.nextId,
    byEngineId: new Map(),
    byRiskId: new Map(),
  };
  for (const [engineBase, riskBase, size, finished] of s.matching.groups) {
    const g = { engineBase, riskBase, size, finished: new Set(finished) };
    for (let k = 0; k < size; k++) {
      matching.byEngineId.set(engineBase + k, g);
      matching.byRiskId.set(riskBase + k, g);
    }
  }
  return { shard, layout, risk, matching };
}

/**
 * One orders shard as it runs: risk shard k and matching shard k in one deterministic state
 * machine. Its inputs are clients' commands (to the risk side), administration (listing, halts,
 * the session) and the messages other shards sent it (routes to the matching side, settlements to
 * the risk side). Journaling the inputs in order is enough to rebuild it: replay needs no network.
 */
import type {
  AddInstrumentCommand,
  EngineEvent,
  ExchangeConfig,
  HaltCommand,
  SessionCommand,
} from '../../domain/exchange.ts';
import type { Envelope } from './channel.ts';
import { matchingShardOf, type ShardLayout } from './layout.ts';
import { applyAdmin, createMatchingShard, deliverRoute, type MatchingShard } from './matching-shard.ts';
import type { RouteBody, SettleBody } from './messages.ts';
import {
  applyRisk,
  createRiskShard,
  deliverSettle,
  type RiskCommand,
  type RiskEvent,
  type RiskShard,
} from './risk-shard.ts';

export type AdminCommand = AddInstrumentCommand | HaltCommand | SessionCommand;

export type ShardInput =
  /** `key`: the client's id for the command (an order's client_order_id), journaled with it */
  | { kind: 'command'; command: RiskCommand; key?: string }
  | { kind: 'admin'; command: AdminCommand }
  | { kind: 'route'; env: Envelope<RouteBody> }
  | { kind: 'settle'; env: Envelope<SettleBody> };

/** A message between shards, as it travels: which side of the receiving shard it is for. */
export type ShardMessage = Extract<ShardInput, { kind: 'route' | 'settle' }>;

export interface ShardNode {
  readonly shard: number;
  readonly layout: ShardLayout;
  readonly risk: RiskShard;
  readonly matching: MatchingShard;
}

export interface ShardStep {
  /** the risk side's events: acknowledgements, refusals, and the account's order events as settled */
  events: RiskEvent[];
  /** public events of the matching side: trades, book changes, orders */
  market: EngineEvent[];
  /** messages to send, each to shard `env.to` */
  messages: ShardMessage[];
  /** the risk side's accounts whose cash, positions or holdings this input may have changed */
  accounts: string[];
}

export function createShardNode(config: ExchangeConfig, shard: number, layout: ShardLayout): ShardNode {
  if (layout.riskShards !== layout.matchingShards) {
    throw new Error('a shard node runs risk shard k with matching shard k: use as many of each');
  }
  return {
    shard,
    layout,
    risk: createRiskShard(config, shard, layout),
    matching: createMatchingShard(config, shard, layout),
  };
}

/** A message this node has applied already (a redelivery): nothing to journal. */
export function isDuplicate(node: ShardNode, message: ShardMessage): boolean {
  const inbox = message.kind === 'route' ? node.matching.inbox : node.risk.inbox;
  return message.env.seq <= (inbox.applied.get(message.env.from) ?? 0);
}

export function applyInput(node: ShardNode, input: ShardInput): ShardStep {
  switch (input.kind) {
    case 'command': {
      const c = input.command;
      const out = applyRisk(node.risk, c);
      return {
        events: out.events,
        market: [],
        messages: out.messages.map((env) => ({ kind: 'route', env })),
        accounts: 'account' in c && node.risk.accounts.has(c.account) ? [c.account] : [],
      };
    }
    case 'admin': {
      const c = input.command;
      if (c.type === 'add_instrument') {
        // every risk shard lists it (to size holdings); only the symbol's matching shard books it
        const listed = applyRisk(node.risk, c).events;
        if (matchingShardOf(c.spec.symbol, node.layout) !== node.shard)
          return { events: listed, market: [], messages: [], accounts: [] };
        return { ...fromMatching(applyAdmin(node.matching, c)), events: listed };
      }
      return fromMatching(applyAdmin(node.matching, c));
    }
    case 'route':
      return fromMatching(deliverRoute(node.matching, input.env));
    case 'settle': {
      const out = deliverSettle(node.risk, input.env);
      return { events: out.events, market: [], messages: [], accounts: out.accounts };
    }
  }
}

function fromMatching(out: ReturnType<typeof deliverRoute>): ShardStep {
  return {
    events: [],
    market: out.events,
    messages: out.messages.map((env) => ({ kind: 'settle', env })),
    accounts: [],
  };
}

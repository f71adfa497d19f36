/**
 * What risk shards and matching shards tell each other. A risk shard routes an order with what it
 * holds for it (`fund`); the matching shard moves that in, matches, and settles back: whatever the
 * account's open orders there do not need goes home at once, so a matching shard only ever keeps
 * reservations.
 */
import type { EngineEvent, NewOrderCommand, ReplaceCommand } from '../../domain/exchange.ts';

/** Cash in cents, or shares of one symbol with their cost basis, moved with a message. */
export interface Funding {
  cash: number;
  symbol: string;
  shares: number;
  cost: number;
}

export const NO_FUNDING: Funding = { cash: 0, symbol: '', shares: 0, cost: 0 };

/** Risk shard → matching shard. */
export type RouteBody =
  | { kind: 'new_order'; ts: number; order: NewOrderCommand; fund: Funding }
  | { kind: 'cancel'; ts: number; id: number; account: string }
  | { kind: 'replace'; ts: number; command: ReplaceCommand; fund: Funding };

export interface Holding {
  symbol: string;
  qty: number;
  cost: number;
}

/** Matching shard → an account's risk shard, after every command that touched the account. */
export interface SettleBody {
  account: string;
  /** what the routed message carried for this account (handed back in `cash`/`shares` if unused) */
  funded: Funding;
  /** moved home by this command */
  cash: number;
  shares: Holding[];
  /** what stays at the matching shard for this account: exactly what its open orders there hold */
  keptCash: number;
  keptShares: Holding[];
  /** the account's order events, ids as the risk shard gave them */
  events: EngineEvent[];
}

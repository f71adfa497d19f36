/**
 * What the orders service publishes on the bus, always AFTER the commit that made it durable,
 * in journal order. Every message carries `seq`, the journal sequence number of the command that
 * caused it (a batch's conflated messages carry the batch's last seq), so a consumer can order
 * messages, drop duplicates after a redelivery, and resynchronise from the HTTP API
 * (which reports the seq it reflects) when it sees a gap.
 *
 * Subjects (NATS tokens, so account ids and symbols never contain '.', '*', '>' or spaces):
 *   orders.exec.<account>    ExecMessage     one per order event, private to the account
 *   orders.account.<account> AccountMessage  balance and positions, conflated per commit
 *   md.trade.<SYMBOL>        TradeMessage    one per trade, public (no accounts or order ids)
 *   md.book.<SYMBOL>         BookMessage     changed price levels, conflated per commit
 *   orders.instrument        InstrumentMessage
 *   orders.session           SessionMessage
 *   orders.halt              HaltMessage
 *
 * Other services may import this file (and client.ts) from the orders folder, nothing else.
 */
import type { CancelReason, Liquidity, RejectReason, SessionState, Side } from '../../domain/exchange.ts';
import type { Balance, DepthLevel, Instrument, Order, Position } from './model.ts';

export const subjects = {
  exec: (account: string): string => `orders.exec.${account}`,
  account: (account: string): string => `orders.account.${account}`,
  trade: (symbol: string): string => `md.trade.${symbol}`,
  book: (symbol: string): string => `md.book.${symbol}`,
  instrument: 'orders.instrument',
  session: 'orders.session',
  halt: 'orders.halt',
  /** wildcards for subscribers */
  allExec: 'orders.exec.*',
  allAccounts: 'orders.account.*',
  allTrades: 'md.trade.*',
  allBooks: 'md.book.*',
} as const;

export type ExecKind =
  | 'accepted'
  | 'fill'
  | 'canceled'
  | 'expired'
  | 'replaced'
  | 'triggered'
  /** a bracket's / oto's exit leg starts working: its entry filled */
  | 'released'
  /** a trailing stop's high-water mark and stop price moved */
  | 'trailed'
  | 'rejected';

export interface ExecMessage {
  seq: number;
  ts: number;
  account: string;
  kind: ExecKind;
  /** the order after the event (for a rejected new order: the order as submitted, status 'rejected') */
  order: Order | null;
  /** kind 'fill' */
  fill?: { tradeId: number; price: number; qty: number; fee: number; liquidity: Liquidity };
  /** kind 'canceled' */
  cancelReason?: CancelReason;
  /** kind 'replaced' */
  keptPriority?: boolean;
  /** kind 'rejected': the rejected command ('new_order', 'cancel', 'replace', 'withdraw', ...) */
  command?: string;
  reason?: RejectReason;
  /** kind 'rejected' of a cancel or replace: the order it named */
  orderId?: number;
}

export interface TradeMessage {
  seq: number;
  tradeId: number;
  ts: number;
  symbol: string;
  price: number;
  qty: number;
  aggressor: Side;
}

export interface BookLevelChange extends DepthLevel {
  side: Side;
}

/** Price levels as they stand after the commit; qty 0 means the level is gone. */
export interface BookMessage {
  seq: number;
  ts: number;
  symbol: string;
  levels: BookLevelChange[];
}

/** The account's balance and changed positions as they stand after the commit. */
export interface AccountMessage {
  seq: number;
  ts: number;
  account: string;
  /** null when only positions changed */
  balance: Balance | null;
  positions: Position[];
}

export interface InstrumentMessage {
  seq: number;
  ts: number;
  instrument: Instrument;
}

export interface SessionMessage {
  seq: number;
  ts: number;
  state: SessionState;
}

export interface HaltMessage {
  seq: number;
  ts: number;
  /** null: market-wide */
  symbol: string | null;
  halted: boolean;
}

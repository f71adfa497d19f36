/**
 * The Exchange facade: applies commands one at a time and answers queries.
 */
import type { Command, EngineEvent, ExchangeConfig, RejectReason } from '../domain/exchange.ts';
import { addInstrument, halt, setSession } from './admin.ts';
import type { EngineSnapshot, Exchange } from './api.ts';
import { cancel, replace } from './cancel-replace.ts';
import { beginCommand, finishCommand, orderView, rejection } from './context.ts';
import { deposit, openAccount, transferShares, withdraw } from './funds.ts';
import { createEngine, type Engine } from './model.ts';
import { newOrder } from './new-order.ts';
import { findOrder } from './order-index.ts';
import {
  accountView,
  bestPrice,
  captureSnapshot,
  depth,
  exportState,
  instrumentState,
  openOrderViews,
  positionView,
  positionViews,
  requiredReservation,
  restoreSnapshot,
  sortedBooks,
} from './snapshot.ts';
import { isSelfTradePrevention, validFees } from './validation.ts';

/** Apply a command; returns why it was rejected, or null when it took effect. */
function dispatch(e: Engine, c: Command): RejectReason | null {
  switch (c.type) {
    case 'new_order':
      return newOrder(e, c);
    case 'replace':
      return replace(e, c);
    case 'cancel':
      return cancel(e, c);
    case 'deposit':
      return deposit(e, c);
    case 'withdraw':
      return withdraw(e, c);
    case 'transfer_shares':
      return transferShares(e, c);
    case 'open_account':
      return openAccount(e, c);
    case 'add_instrument':
      return addInstrument(e, c);
    case 'halt':
      return halt(e, c);
    case 'session':
      return setSession(e, c);
    default:
      // Unreachable for typed callers; a corrupt journal entry is rejected, not thrown.
      return 'invalid_quantity';
  }
}

export function applyCommand(e: Engine, c: Command): EngineEvent[] {
  beginCommand(e, c.ts);
  const reason = dispatch(e, c);
  if (reason === null) finishCommand(e);
  else e.events.push(rejection(c, reason));
  return e.events;
}

/**
 * Create an engine, empty or as it was when `snapshot` was captured. The configuration is trusted
 * code, not input: a bad one throws.
 */
export function createExchange(config: ExchangeConfig, snapshot?: EngineSnapshot): Exchange {
  if (!validFees(config.fees)) throw new Error('invalid exchange fee schedule');
  if (!isSelfTradePrevention(config.selfTradePrevention)) throw new Error('invalid self-trade prevention');
  if (typeof config.feeAccount !== 'string' || config.feeAccount.length === 0) {
    throw new Error('invalid fee account');
  }
  const e = createEngine({
    fees: { makerBps: config.fees.makerBps, takerBps: config.fees.takerBps },
    selfTradePrevention: config.selfTradePrevention,
    feeAccount: config.feeAccount,
  });
  if (snapshot !== undefined) restoreSnapshot(e, snapshot);
  return {
    apply: (command) => applyCommand(e, command),
    account: (id) => {
      const a = e.accounts.get(id);
      return a === undefined ? undefined : accountView(a);
    },
    position: (id, symbol) => {
      const p = e.accounts.get(id)?.positions.get(symbol);
      return p === undefined ? undefined : positionView(p);
    },
    positions: (id) => {
      const a = e.accounts.get(id);
      return a === undefined ? [] : positionViews(a);
    },
    order: (id) => {
      const o = findOrder(e.orders, id);
      return o === undefined ? undefined : orderView(o);
    },
    openOrders: (account) => openOrderViews(e, account),
    depth: (symbol, levels) => depth(e, symbol, levels),
    bestBid: (symbol) => {
      const book = e.books.get(symbol);
      return book === undefined ? null : bestPrice(book.bids);
    },
    bestAsk: (symbol) => {
      const book = e.books.get(symbol);
      return book === undefined ? null : bestPrice(book.asks);
    },
    instrument: (symbol) => {
      const book = e.books.get(symbol);
      return book === undefined ? undefined : instrumentState(book);
    },
    instruments: () => sortedBooks(e).map(instrumentState),
    session: () => e.session,
    marketHalted: () => e.marketHalted,
    exportState: () => exportState(e),
    requiredReservation: (account) => requiredReservation(e, account),
    snapshot: () => captureSnapshot(e),
  };
}

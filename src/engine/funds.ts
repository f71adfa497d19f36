/**
 * Money and shares moving in and out of the exchange: deposit, withdraw, transfer_shares.
 * Allowed in every session and during halts (they do not trade).
 */
import type {
  DepositCommand,
  OpenAccountCommand,
  RejectReason,
  TransferSharesCommand,
  WithdrawCommand,
} from '../domain/exchange.ts';
import { addShares, openPosition, removeShares } from './accounts.ts';
import { isNonNegativeInt, isPositiveInt } from './arith.ts';
import { touchAccount } from './context.ts';
import { createAccount, type Engine } from './model.ts';

/** The first deposit opens the account. */
export function deposit(e: Engine, c: DepositCommand): RejectReason | null {
  if (typeof c.account !== 'string' || c.account.length === 0) {
    return 'unknown_account';
  }
  let a = e.accounts.get(c.account);
  const cash = a === undefined ? 0 : a.cash;
  if (!isPositiveInt(c.amount) || !Number.isSafeInteger(cash + c.amount)) {
    return 'invalid_amount';
  }
  if (a === undefined) {
    a = createAccount(c.account);
    e.accounts.set(a.id, a);
  }
  e.cause = 'deposit';
  touchAccount(e, a);
  a.cash += c.amount;
  return null;
}

/** Idempotent: an open account is left as it is (no event). */
export function openAccount(e: Engine, c: OpenAccountCommand): RejectReason | null {
  if (typeof c.account !== 'string' || c.account.length === 0) return 'unknown_account';
  if (!e.accounts.has(c.account)) {
    const a = createAccount(c.account);
    e.accounts.set(a.id, a);
  }
  return null;
}

/** Only available cash (not reserved by open orders) can leave. */
export function withdraw(e: Engine, c: WithdrawCommand): RejectReason | null {
  const a = e.accounts.get(c.account);
  if (a === undefined) return 'unknown_account';
  if (!isPositiveInt(c.amount)) return 'invalid_amount';
  if (c.amount > a.cash - a.reserved) return 'insufficient_funds';
  e.cause = 'withdraw';
  touchAccount(e, a);
  a.cash -= c.amount;
  return null;
}

/** Shares in (with their cost basis) or free shares out (cost basis reduced in proportion). */
export function transferShares(e: Engine, c: TransferSharesCommand): RejectReason | null {
  const a = e.accounts.get(c.account);
  if (a === undefined || a === e.feeAccount) return 'unknown_account';
  if (!e.books.has(c.symbol)) return 'unknown_symbol';
  const qty = c.qty;
  if (!Number.isSafeInteger(qty) || qty === 0) return 'invalid_quantity';
  const p = a.positions.get(c.symbol);
  if (qty > 0) {
    if (!isNonNegativeInt(c.cost)) return 'invalid_amount';
    if (p !== undefined && (!Number.isSafeInteger(p.qty + qty) || !Number.isSafeInteger(p.cost + c.cost))) {
      return 'invalid_quantity';
    }
    addShares(e, a, c.symbol, qty, c.cost);
  } else {
    if (p === undefined || p.qty - p.reserved < -qty) {
      return 'insufficient_shares';
    }
    removeShares(e, openPosition(e, a, c.symbol), -qty);
  }
  return null;
}

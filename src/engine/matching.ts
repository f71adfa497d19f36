/**
 * Matching: an incoming (taker) order against the opposite side of its book, best price first and
 * first come first served within a price. Trades execute at the resting (maker) order's price.
 */
import type { SelfTradePrevention } from '../domain/exchange.ts';
import { addShares, hold, openPosition, removeShares, tradeCash } from './accounts.ts';
import { fee } from './arith.ts';
import { shrinkResting, unrest } from './book.ts';
import { orderView } from './context.ts';
import { bestLevel } from './ladder.ts';
import type { Account, Book, Engine, Order } from './model.ts';
import { leaves } from './model.ts';
import { cancelOrder, settleChildren, unregister } from './orders.ts';
import { collectTriggered } from './stops.ts';
import { trackTrade } from './trailing.ts';

/** Whether a taker on this side with this limit may trade at `price`. */
export function withinLimit(isBuy: boolean, limit: number, price: number): boolean {
  return isBuy ? price <= limit : price >= limit;
}

/** Whether an order would trade on arrival: the opposite best is within its limit. */
export function wouldTake(book: Book, isBuy: boolean, limit: number): boolean {
  const level = bestLevel(isBuy ? book.asks : book.bids);
  return level !== null && withinLimit(isBuy, limit, level.price);
}

/**
 * How much of `need` an order could fill right now, walking the book exactly as `match` would:
 * own orders are skipped (cancel_resting: they would be cancelled, not traded), stop the walk
 * (cancel_incoming, cancel_both), or count (allow). Used by fill-or-kill before it changes anything.
 */
export function fillableQty(
  book: Book,
  isBuy: boolean,
  limit: number,
  account: Account,
  stp: SelfTradePrevention,
  need: number,
): number {
  let got = 0;
  const chunks = (isBuy ? book.asks : book.bids).levels.chunks;
  for (let c = chunks.length - 1; c >= 0; c--) {
    const chunk = chunks[c]!;
    for (let j = chunk.length - 1; j >= 0; j--) {
      const level = chunk[j]!;
      if (!withinLimit(isBuy, limit, level.price)) return got;
      if (stp === 'allow') {
        got += level.qty;
        if (got >= need) return got;
        continue;
      }
      for (let o = level.head; o !== null; o = o.next) {
        if (o.account === account) {
          if (stp === 'cancel_resting') continue;
          return got;
        }
        got += leaves(o);
        if (got >= need) return got;
      }
    }
  }
  return got;
}

/**
 * Match the taker until it is filled, the book has nothing within its limit, or self-trade
 * prevention stops it. Returns true when self-trade prevention cancelled the taker's remainder
 * (the caller cancels it with reason self_trade). The taker is not on the book while it matches.
 */
export function match(e: Engine, taker: Order): boolean {
  const isBuy = taker.isBuy;
  const limit = taker.limit;
  const stp = taker.stp;
  const ladder = isBuy ? taker.book.asks : taker.book.bids;
  while (taker.filledQty < taker.qty) {
    const level = bestLevel(ladder);
    if (level === null || !withinLimit(isBuy, limit, level.price)) return false;
    let maker = level.head;
    while (maker !== null && taker.filledQty < taker.qty) {
      if (maker.account === taker.account && stp !== 'allow') {
        if (stp === 'cancel_incoming') return true;
        cancelOrder(e, maker, 'self_trade');
        if (stp === 'cancel_both') return true;
      } else {
        trade(e, taker, maker, level.price);
      }
      // Either the maker left the level or the taker is done: the next maker is the head again.
      maker = level.head;
    }
  }
  return false;
}

function trade(e: Engine, taker: Order, maker: Order, price: number): void {
  const book = taker.book;
  const qty = Math.min(leaves(taker), leaves(maker));
  const notional = price * qty;
  const takerFee = fee(notional, book.takerBps);
  const makerFee = fee(notional, book.makerBps);
  const buy = taker.isBuy ? taker : maker;
  const sell = taker.isBuy ? maker : taker;
  const buyFee = taker.isBuy ? takerFee : makerFee;
  const sellFee = taker.isBuy ? makerFee : takerFee;

  // Seller first, so that a self-trade (stp 'allow') reduces the position before adding to it.
  tradeCash(e, sell.account, notional - sellFee);
  // A sell holding nothing (the other leg of a pair holds for both) looks its position up.
  const position = sell.reserved === 0 ? openPosition(e, sell.account, book.symbol) : sell.position!;
  sell.position = position;
  removeShares(e, position, qty);
  tradeCash(e, buy.account, -(notional + buyFee));
  addShares(e, buy.account, book.symbol, qty, notional + buyFee);
  if (buyFee + sellFee > 0) tradeCash(e, e.feeAccount, buyFee + sellFee);

  fill(e, maker, qty, notional, makerFee);
  fill(e, taker, qty, notional, takerFee);

  const tradeId = e.nextTradeId++;
  const events = e.events;
  events.push({
    type: 'trade',
    tradeId,
    ts: e.ts,
    symbol: book.symbol,
    price,
    qty,
    buyOrderId: buy.id,
    sellOrderId: sell.id,
    buyAccount: buy.accountId,
    sellAccount: sell.accountId,
    aggressor: taker.side,
    buyFee,
    sellFee,
  });
  events.push({
    type: 'fill',
    tradeId,
    order: orderView(maker),
    price,
    qty,
    fee: makerFee,
    liquidity: 'maker',
  });
  events.push({
    type: 'fill',
    tradeId,
    order: orderView(taker),
    price,
    qty,
    fee: takerFee,
    liquidity: 'taker',
  });

  afterFill(e, maker);
  afterFill(e, taker);
  book.lastTradePrice = price;
  book.referencePrice = price;
  trackTrade(e, book, price);
  collectTriggered(e, book, price);
}

/**
 * Order classes, once a fill is reported: the first fill of a one-cancels-other leg cancels the
 * other leg; an entry's held legs hold the shares it bought, and are released once it is filled.
 */
function afterFill(e: Engine, o: Order): void {
  const s = o.sibling;
  if (s !== null) {
    // Broken first, so that cancelling the other leg does not come back to cancel this one.
    o.sibling = null;
    s.sibling = null;
    hold(e, o);
    cancelOrder(e, s, 'oco');
  }
  const children = o.children;
  if (children === null) return;
  if (o.filledQty === o.qty) settleChildren(e, o);
  else for (const c of children) hold(e, c);
}

function fill(e: Engine, o: Order, qty: number, notional: number, orderFee: number): void {
  o.filledQty += qty;
  o.filledNotional += notional;
  o.fees += orderFee;
  o.updatedAt = e.ts;
  if (o.level !== null) shrinkResting(e, o, qty);
  hold(e, o);
  if (o.filledQty === o.qty) {
    o.status = 'filled';
    if (o.level !== null) unrest(e, o);
    unregister(e, o);
  } else {
    o.status = 'partially_filled';
  }
}

/**
 * Market administration: listing instruments, halts, and the session clock.
 */
import type {
  AddInstrumentCommand,
  HaltCommand,
  InstrumentSpec,
  RejectReason,
  SessionCommand,
} from '../domain/exchange.ts';
import { startReleasable } from './execution.ts';
import { createBook, type Engine, isOpenOrder } from './model.ts';
import { ordersById } from './order-index.ts';
import { expireOrder } from './orders.ts';
import { validInstrument } from './validation.ts';

/** A private copy, so that nobody holding the caller's object can change a listed instrument. */
export function copySpec(s: InstrumentSpec): InstrumentSpec {
  const copy: InstrumentSpec = {
    symbol: s.symbol,
    tickSize: s.tickSize,
    lotSize: s.lotSize,
    minQty: s.minQty,
    maxQty: s.maxQty,
    priceBandBps: s.priceBandBps,
    collarBps: s.collarBps,
    referencePrice: s.referencePrice,
  };
  if (s.fees !== undefined) copy.fees = { makerBps: s.fees.makerBps, takerBps: s.fees.takerBps };
  return copy;
}

export function addInstrument(e: Engine, c: AddInstrumentCommand): RejectReason | null {
  if (!validInstrument(c.spec)) return 'invalid_instrument';
  if (e.books.has(c.spec.symbol)) return 'duplicate_symbol';
  const spec = copySpec(c.spec);
  e.books.set(spec.symbol, createBook(spec, e.config.fees));
  e.events.push({ type: 'instrument', spec: copySpec(spec) });
  return null;
}

/**
 * Halts stop new orders and replaces; cancels still work and resting orders stay. Exit legs released
 * during the halt start when it is lifted (execution.ts startReleasable).
 */
export function halt(e: Engine, c: HaltCommand): RejectReason | null {
  const halted = c.halted === true;
  if (c.symbol === null) {
    e.marketHalted = halted;
  } else {
    const book = e.books.get(c.symbol);
    if (book === undefined) return 'unknown_symbol';
    book.halted = halted;
  }
  e.events.push({ type: 'halt', symbol: c.symbol, halted });
  if (!halted) startReleasable(e);
  return null;
}

/**
 * Moving to `closed` expires every open DAY order, resting or waiting stop, in acceptance order.
 * Moving to `open` starts the exit legs released while the market could not trade.
 */
export function setSession(e: Engine, c: SessionCommand): RejectReason | null {
  const state = c.state;
  if (state !== 'pre_open' && state !== 'open' && state !== 'closed') return 'market_closed';
  e.session = state;
  e.events.push({ type: 'session', state });
  if (state === 'open') startReleasable(e);
  if (state !== 'closed') return null;
  for (const o of ordersById(e.orders)) {
    // An oco's other leg or an entry's held legs may have expired with it already.
    if (o.tif === 'day' && isOpenOrder(o)) expireOrder(e, o);
  }
  return null;
}

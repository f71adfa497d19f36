/**
 * The engine snapshot's format: plain data, JSON-safe, written by snapshot.ts's captureSnapshot and
 * read by its restoreSnapshot. Kept apart (types and the version only) so that api.ts can name it
 * without an import cycle.
 */
import type { ExchangeConfig, InstrumentSpec, SessionState } from '../domain/exchange.ts';

/**
 * Bumped whenever the shape below changes; restore reads this version and the ones listed in
 * READABLE_FORMATS, and refuses any other. Format 2 added order classes and trailing stops (the
 * optional row extras, ladder 4, books' `trailing`); a format 1 snapshot has none of them and
 * reads as is.
 */
export const SNAPSHOT_FORMAT = 2;
export const READABLE_FORMATS: readonly number[] = [1, 2];

/** bids, asks, buy stops, sell stops, and 4: in no queue (held legs, trailing stops awaiting activation) */
export type LadderIndex = 0 | 1 | 2 | 3 | 4;

/**
 * What an order of a class other than simple, or a trailing stop, adds to its row (fields left out
 * are 0 / none): side (orders in no queue), class, parent id, held (1), parent entry id while held, pair's other leg id,
 * trail price, trail bps, high-water mark, activation price. A `held` row without `heldBy` is a
 * releasable leg: its entry is done, and it starts when its symbol can trade again.
 */
export interface SnapshotOrderExtras {
  /** orders in no queue only: no ladder tells their side */
  side?: 'buy' | 'sell';
  cls?: 'bracket' | 'oco' | 'oto';
  parentId?: number;
  heldBy?: number;
  sibling?: number;
  trailPrice?: number;
  trailBps?: number;
  hwm?: number;
  activationPrice?: number;
}

/**
 * An open order as a row: [book index, ladder, id, account, orderType, tif, postOnly, stp,
 * createdAt, qty, filledQty, price, stopPrice, status, triggered, filledNotional, fees, updatedAt,
 * limit, reserved, extras?]. Rows come ladder by ladder, each level best first, each level in time
 * priority; then, per book, the orders in no queue, by id.
 */
export type SnapshotOrder = (string | number | SnapshotOrderExtras)[];

export interface EngineSnapshot {
  format: number;
  config: ExchangeConfig;
  session: SessionState;
  marketHalted: boolean;
  nextTradeId: number;
  lastOrderId: number;
  /** in listing order */
  books: {
    spec: InstrumentSpec;
    halted: boolean;
    lastTradePrice: number | null;
    referencePrice: number;
    /** ids of the waiting trailing stops, in the order they are updated (format 2; absent when none) */
    trailing?: number[];
  }[];
  /** [id, cash, reserved, [[symbol, qty, reserved, cost], ...]] in creation order (fee account first) */
  accounts: [string, number, number, [string, number, number, number][]][];
  orders: SnapshotOrder[];
}

/**
 * The engine snapshot's format: plain data, JSON-safe, written by snapshot.ts's captureSnapshot and
 * read by its restoreSnapshot. Kept apart (types and the version only) so that api.ts can name it
 * without an import cycle.
 */
import type { ExchangeConfig, InstrumentSpec, SessionState } from '../domain/exchange.ts';

/** Bumped whenever the shape below changes; restore refuses another version. */
export const SNAPSHOT_FORMAT = 1;

/** bids, asks, buy stops, sell stops */
export type LadderIndex = 0 | 1 | 2 | 3;

/**
 * An open order as a row: [book index, ladder, id, account, orderType, tif, postOnly, stp,
 * createdAt, qty, filledQty, price, stopPrice, status, triggered, filledNotional, fees, updatedAt,
 * limit, reserved]. Rows come ladder by ladder, each level best first, each level in time priority.
 */
export type SnapshotOrder = (string | number)[];

export interface EngineSnapshot {
  format: number;
  config: ExchangeConfig;
  session: SessionState;
  marketHalted: boolean;
  nextTradeId: number;
  lastOrderId: number;
  /** in listing order */
  books: { spec: InstrumentSpec; halted: boolean; lastTradePrice: number | null; referencePrice: number }[];
  /** [id, cash, reserved, [[symbol, qty, reserved, cost], ...]] in creation order (fee account first) */
  accounts: [string, number, number, [string, number, number, number][]][];
  orders: SnapshotOrder[];
}

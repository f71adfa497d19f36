import type {
  Command,
  EngineEvent,
  ExchangeConfig,
  InstrumentSpec,
  OrderView,
  SessionState,
  Side,
} from '../domain/exchange.ts';
import type { EngineSnapshot } from './snapshot-format.ts';

export type { EngineSnapshot } from './snapshot-format.ts';

export interface AccountView {
  account: string;
  /** cents owned */
  cash: number;
  /** cents blocked by open buy orders (always <= cash) */
  reserved: number;
}

export interface PositionView {
  account: string;
  symbol: string;
  qty: number;
  /** shares blocked by open sell orders (always <= qty) */
  reserved: number;
  /** cost basis in cents of the shares held */
  cost: number;
}

export interface DepthLevel {
  price: number;
  qty: number;
  orders: number;
}

export interface Depth {
  symbol: string;
  bids: DepthLevel[];
  asks: DepthLevel[];
}

export interface InstrumentState {
  spec: InstrumentSpec;
  halted: boolean;
  /** last trade price, or the spec's reference price before the first trade */
  referencePrice: number;
  lastTradePrice: number | null;
}

/**
 * The whole exchange state as plain, canonically ordered data: two engines that applied the same
 * commands produce deep-equal exports (used by replay and recovery checks).
 */
export interface ExchangeState {
  session: SessionState;
  marketHalted: boolean;
  nextTradeId: number;
  instruments: InstrumentState[];
  accounts: AccountView[];
  positions: PositionView[];
  /** open orders (resting and waiting stops), each side of each book in priority order */
  openOrders: OrderView[];
}

/** The deterministic exchange core: one instance owns a set of symbols and the accounts trading them. */
export interface Exchange {
  /** Apply one command; returns the events it caused, in order. Never throws on bad input: rejects. */
  apply(command: Command): EngineEvent[];
  account(account: string): AccountView | undefined;
  position(account: string, symbol: string): PositionView | undefined;
  positions(account: string): PositionView[];
  /** an open order (resting, or a stop waiting for its trigger); the engine forgets finished orders */
  order(id: number): OrderView | undefined;
  /** open orders, of one account or of all, in acceptance (id) order */
  openOrders(account?: string): OrderView[];
  /** the best `levels` price levels of each side, best first */
  depth(symbol: string, levels: number): Depth;
  bestBid(symbol: string): number | null;
  bestAsk(symbol: string): number | null;
  instrument(symbol: string): InstrumentState | undefined;
  instruments(): InstrumentState[];
  session(): SessionState;
  marketHalted(): boolean;
  /** canonical export of the full state */
  exportState(): ExchangeState;
  /** sum of reserved cash an account's open orders need (for invariant checks) */
  requiredReservation(account: string): { cash: number; shares: Map<string, number> };
  /**
   * A consistent copy of the whole state as plain data (nothing shared with the engine), from
   * which `createExchange(config, snapshot)` rebuilds an engine that behaves identically.
   */
  snapshot(): EngineSnapshot;
}

export type { Side };
/** A new engine, or with `snapshot` the engine that snapshot was taken of (SnapshotError if it cannot be). */
export type CreateExchange = (config: ExchangeConfig, snapshot?: EngineSnapshot) => Exchange;

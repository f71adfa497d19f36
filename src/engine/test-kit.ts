/**
 * Helpers for the engine's tests: a small market with terse command builders. Test-only (imported
 * by *.test.ts files); kept in src/engine so the tests stay beside the code and inside its rules.
 */
import type {
  Command,
  EngineEvent,
  ExchangeConfig,
  InstrumentSpec,
  NewOrderCommand,
  OrderView,
  RejectReason,
} from '../domain/exchange.ts';
import type { Exchange } from './api.ts';
import { createExchange } from './exchange.ts';

export const FEES = 'FEES';

export const CONFIG: ExchangeConfig = {
  fees: { makerBps: 10, takerBps: 20 },
  selfTradePrevention: 'cancel_resting',
  feeAccount: FEES,
};

/** A plain instrument: cent ticks, single-share lots, no band, 10% collar, reference $100.00. */
export function spec(overrides: Partial<InstrumentSpec> = {}): InstrumentSpec {
  return {
    symbol: 'ACME',
    tickSize: 1,
    lotSize: 1,
    minQty: 1,
    maxQty: 1_000_000,
    priceBandBps: 0,
    collarBps: 1_000,
    referencePrice: 10_000,
    ...overrides,
  };
}

type OrderArgs = Partial<Omit<NewOrderCommand, 'type' | 'ts'>>;

export interface Market {
  x: Exchange;
  /** every command applied so far, for replay */
  log: Command[];
  apply(c: Command): EngineEvent[];
  /** apply and fail the test if the command was rejected */
  ok(c: Command): EngineEvent[];
  /** apply, expect a rejection with this reason, and return nothing else */
  rejects(c: Command, reason: RejectReason): void;
  order(args: OrderArgs): NewOrderCommand;
  buy(qty: number, price: number, args?: OrderArgs): NewOrderCommand;
  sell(qty: number, price: number, args?: OrderArgs): NewOrderCommand;
  deposit(account: string, amount: number): void;
  shares(account: string, qty: number, cost?: number, symbol?: string): void;
  cash(account: string): { cash: number; reserved: number };
  held(account: string, symbol?: string): { qty: number; reserved: number; cost: number };
  nextId: number;
  ts: number;
}

/**
 * A market with one instrument and accounts A, B, C funded with $1,000,000.00 and 10,000 shares
 * at cost $100.00 each, unless told otherwise.
 */
export function market(
  opts: { config?: Partial<ExchangeConfig>; spec?: Partial<InstrumentSpec>; fund?: boolean } = {},
): Market {
  const x = createExchange({ ...CONFIG, ...opts.config });
  const m: Market = {
    x,
    log: [],
    nextId: 1,
    ts: 1_000,
    apply(c) {
      m.log.push(c);
      return x.apply(c);
    },
    ok(c) {
      const events = m.apply(c);
      const rejected = events.find((e) => e.type === 'rejected');
      if (rejected) throw new Error(`${c.type} rejected: ${JSON.stringify(rejected)}`);
      return events;
    },
    rejects(c, reason) {
      const before = x.exportState();
      const events = m.apply(c);
      if (events.length !== 1 || events[0]!.type !== 'rejected' || events[0]!.reason !== reason) {
        throw new Error(`expected ${c.type} rejected ${reason}, got ${JSON.stringify(events)}`);
      }
      const after = x.exportState();
      if (JSON.stringify(before) !== JSON.stringify(after))
        throw new Error('a rejected command changed state');
    },
    order(args) {
      const id = args.id ?? m.nextId++;
      // Legs take the ids after their entry's.
      m.nextId = Math.max(m.nextId, id + 1 + (args.takeProfit ? 1 : 0) + (args.stopLoss ? 1 : 0));
      return {
        type: 'new_order',
        ts: ++m.ts,
        id,
        account: 'A',
        symbol: 'ACME',
        side: 'buy',
        orderType: 'limit',
        tif: 'gtc',
        qty: 10,
        ...args,
      };
    },
    buy(qty, price, args = {}) {
      return m.order({ side: 'buy', qty, price, ...args });
    },
    sell(qty, price, args = {}) {
      return m.order({ side: 'sell', qty, price, ...args });
    },
    deposit(account, amount) {
      m.ok({ type: 'deposit', ts: ++m.ts, account, amount });
    },
    shares(account, qty, cost = qty * 10_000, symbol = 'ACME') {
      m.ok({ type: 'transfer_shares', ts: ++m.ts, account, symbol, qty, cost });
    },
    cash(account) {
      const a = x.account(account);
      return a === undefined ? { cash: 0, reserved: 0 } : { cash: a.cash, reserved: a.reserved };
    },
    held(account, symbol = 'ACME') {
      const p = x.position(account, symbol);
      return p === undefined
        ? { qty: 0, reserved: 0, cost: 0 }
        : { qty: p.qty, reserved: p.reserved, cost: p.cost };
    },
  };
  m.ok({ type: 'add_instrument', ts: m.ts, spec: spec(opts.spec) });
  if (opts.fund !== false) {
    for (const a of ['A', 'B', 'C']) {
      m.deposit(a, 100_000_000);
      m.shares(a, 10_000);
    }
  }
  return m;
}

export function ofType<T extends EngineEvent['type']>(
  events: EngineEvent[],
  type: T,
): Extract<EngineEvent, { type: T }>[] {
  return events.filter((e): e is Extract<EngineEvent, { type: T }> => e.type === type);
}

/** Event types in order, for asserting sequences compactly. */
export function kinds(events: EngineEvent[]): string[] {
  return events.map((e) => e.type);
}

/** The order snapshot of the last event about order `id`. */
export function lastView(events: EngineEvent[], id: number): OrderView | undefined {
  let view: OrderView | undefined;
  for (const e of events) if ('order' in e && e.order.id === id) view = e.order;
  return view;
}

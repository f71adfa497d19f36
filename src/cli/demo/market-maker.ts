import type { InstrumentSpec, Side } from '../../domain/exchange.ts';
import { type Rng, seededRng } from '../../domain/random.ts';

/**
 * The demo market: per symbol, a market maker quotes a few levels around a seeded random walk and
 * a taker crosses the spread now and then, so a new user of `npm start` sees a live book and
 * trades. It trades through the orders service like any client (no back doors), as two demo
 * accounts funded at start.
 */

export interface DemoVenue {
  /** adds the instrument if it does not exist yet */
  ensureInstrument(spec: InstrumentSpec): Promise<void>;
  /** balance and shares of an account, to fund it only once */
  holdings(account: string, symbol: string): Promise<{ cash: number; shares: number }>;
  deposit(account: string, cents: number): Promise<void>;
  transferShares(account: string, symbol: string, qty: number, cost: number): Promise<void>;
  /** returns the order id when the order rests or fills, null when it was rejected */
  limit(order: {
    account: string;
    symbol: string;
    side: Side;
    qty: number;
    price: number;
    tif: 'gtc' | 'ioc';
  }): Promise<number | null>;
  /** new price and total quantity (filled included) for a resting order; false when it was refused */
  move(account: string, id: number, price: number, totalQty: number): Promise<boolean>;
  cancel(account: string, id: number): Promise<void>;
  /** the open orders of an account for a symbol */
  openOrders(account: string, symbol: string): Promise<OpenQuote[]>;
}

export interface OpenQuote {
  id: number;
  side: Side;
  price: number;
  /** shares still open */
  leaves: number;
  filledQty: number;
}

export interface DemoSymbol {
  symbol: string;
  /** starting price in cents */
  price: number;
  /** daily volatility as a fraction (0.02 = 2 %) */
  volatility: number;
}

export const demoSymbols: DemoSymbol[] = [
  { symbol: 'AAPL', price: 22_850, volatility: 0.018 },
  { symbol: 'MSFT', price: 41_520, volatility: 0.016 },
  { symbol: 'NVDA', price: 13_940, volatility: 0.035 },
  { symbol: 'AMZN', price: 19_870, volatility: 0.022 },
  { symbol: 'TSLA', price: 24_610, volatility: 0.04 },
  { symbol: 'SPY', price: 58_230, volatility: 0.011 },
];

export const DEMO_MAKER = 'demo-market-maker';
export const DEMO_TAKER = 'demo-taker';

export function demoInstrument(s: DemoSymbol): InstrumentSpec {
  return {
    symbol: s.symbol,
    tickSize: 1,
    lotSize: 1,
    minQty: 1,
    maxQty: 1_000_000,
    priceBandBps: 2_000,
    collarBps: 500,
    referencePrice: s.price,
  };
}

const LEVELS = 5;
const CASH = 500_000_000_00; // $500M each: the demo accounts must not run dry
const SHARES = 2_000_000;

interface Quote {
  id: number;
  side: Side;
  level: number;
}

interface SymbolState {
  spec: DemoSymbol;
  fair: number;
  quotes: Quote[];
}

/** commands one symbol's step sends at most: every quote moved, and a taker now and then */
const COMMANDS_PER_STEP = 2 * LEVELS + 1;

export interface DemoMarketOptions {
  venue: DemoVenue;
  seed: number;
  /**
   * about how many commands a second all symbols together send (BOURSE_DEMO_RATE, default 5):
   * symbols step in turn, one every COMMANDS_PER_STEP / rate seconds. Each command is a journal
   * row and its projections, so this is what the idle demo writes to disk.
   */
  rate?: number;
  symbols?: DemoSymbol[];
  onError?: (err: unknown) => void;
}

export interface DemoMarket {
  stop(): Promise<void>;
}

/** Adds the demo instruments and tops up the demo accounts; safe to run again. */
export async function setUpDemo(venue: DemoVenue, symbols: DemoSymbol[] = demoSymbols): Promise<void> {
  for (const s of symbols) {
    await venue.ensureInstrument(demoInstrument(s));
    for (const account of [DEMO_MAKER, DEMO_TAKER]) {
      const held = await venue.holdings(account, s.symbol);
      if (held.cash < CASH / 2) await venue.deposit(account, CASH);
      if (held.shares < SHARES / 2) await venue.transferShares(account, s.symbol, SHARES, SHARES * s.price);
    }
  }
}

export async function startDemoMarket(options: DemoMarketOptions): Promise<DemoMarket> {
  const { venue } = options;
  const rng = seededRng(options.seed);
  const symbols = options.symbols ?? demoSymbols;
  const rate = options.rate ?? 5;
  const tickMs = Math.max(20, Math.round((1000 * COMMANDS_PER_STEP) / rate));
  const states: SymbolState[] = [];

  await setUpDemo(venue, symbols);
  for (const s of symbols) {
    states.push({ spec: s, fair: s.price, quotes: [] });
  }

  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  // every book is quoted once before the doors open, then symbols take turns
  await Promise.all(states.map((st) => stepSymbol(venue, rng, st, tickMs * states.length)));

  let turn = 0;
  const tick = async () => {
    if (stopped) return;
    const st = states[turn++ % states.length]!;
    // a symbol steps once per round of all symbols: its random walk is scaled to that interval
    await stepSymbol(venue, rng, st, tickMs * states.length);
  };

  const timer = setInterval(() => {
    // one step at a time: a slow commit must not pile up overlapping steps
    running = running.then(tick).catch((err) => options.onError?.(err));
  }, tickMs);

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

async function stepSymbol(venue: DemoVenue, rng: Rng, st: SymbolState, intervalMs: number): Promise<void> {
  // Random walk: a trading day is 6.5 h; scale daily volatility to one step.
  const stepsPerDay = (6.5 * 3600 * 1000) / intervalMs;
  const sigma = st.spec.volatility / Math.sqrt(stepsPerDay);
  // demo markets are livelier than real ones: amplify so that moves are visible within minutes
  const move = Math.exp(rng.normal() * sigma * 12);
  st.fair = Math.max(100, Math.round(st.fair * move));

  const spread = Math.max(2, Math.round(st.fair * 0.0004));
  const desired: { side: Side; level: number; price: number; qty: number }[] = [];
  for (let level = 0; level < LEVELS; level++) {
    const offset = Math.ceil(spread / 2) + level * Math.max(1, Math.round(spread / 2));
    const qty = 100 * rng.int(1, 5) * (level + 1);
    desired.push({ side: 'buy', level, price: st.fair - offset, qty });
    desired.push({ side: 'sell', level, price: st.fair + offset, qty });
  }

  // every random draw happens before the first await, so a seed replays the same market
  let taker: { side: Side; price: number; qty: number } | undefined;
  if (rng.next() < 0.35) {
    const side: Side = rng.next() < 0.5 ? 'buy' : 'sell';
    const reach = spread * rng.int(1, 3);
    taker = { side, price: side === 'buy' ? st.fair + reach : st.fair - reach, qty: 10 * rng.int(1, 30) };
  }

  // one read per symbol and step tells which quotes are still open and how much of each filled
  const open = new Map((await venue.openOrders(DEMO_MAKER, st.spec.symbol)).map((o) => [o.id, o]));
  const next: Quote[] = [];
  await Promise.all(
    desired.map(async (d) => {
      const existing = st.quotes.find((q) => q.side === d.side && q.level === d.level);
      const live = existing && open.get(existing.id);
      if (existing && live) {
        if (live.price === d.price && live.leaves === d.qty) {
          next.push(existing);
          return;
        }
        if (await venue.move(DEMO_MAKER, existing.id, d.price, live.filledQty + d.qty)) {
          next.push(existing);
          return;
        }
        // never leave a stale quote behind
        await venue.cancel(DEMO_MAKER, existing.id);
      }
      const id = await venue.limit({ account: DEMO_MAKER, symbol: st.spec.symbol, ...d, tif: 'gtc' });
      if (id !== null) next.push({ id, side: d.side, level: d.level });
    }),
  );
  // quotes the maker no longer tracks (after a restart or a failed step) are cancelled
  const kept = new Set(next.map((q) => q.id));
  await Promise.all([...open.keys()].filter((id) => !kept.has(id)).map((id) => venue.cancel(DEMO_MAKER, id)));
  st.quotes = next;

  // The taker crosses the spread about every third step, sometimes walking a level or two.
  if (taker) await venue.limit({ account: DEMO_TAKER, symbol: st.spec.symbol, ...taker, tif: 'ioc' });
}

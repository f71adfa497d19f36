/**
 * A simulated market for symbols not traded on our exchange (the demo): per symbol a seeded
 * random walk of the mid price (log-normal steps), a quote around it with a spread of a few
 * basis points on the cent grid, and trades at the bid or the ask in round lots. Clock-driven:
 * `step()` produces every tick due between the previous step and `clock.now()` (at most five
 * seconds' worth, so a paused process does not replay a burst), timestamps spread evenly.
 * The same seed and the same step times give the same ticks.
 */
import { seededRng } from '../../../domain/random.ts';
import type { BookView, FeedDefinition, SimulatedFeedConfig, Tick } from '../model.ts';
import type { AdapterHealth, Feed, FeedDeps } from './types.ts';

interface SymState {
  symbol: string;
  mid: number;
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
  ts: number;
  tradeSeq: number;
  quoteSeq: number;
}

const MAX_CATCH_UP_MS = 5000;
const cents = (x: number): number => Math.round(x * 100) / 100;

export function createSimulatedFeed(def: FeedDefinition, deps: FeedDeps): Feed {
  const config = def.config as SimulatedFeedConfig;
  const rng = seededRng(config.seed);
  const spread = (config.spreadBps ?? 5) / 10_000;
  const vol = (config.volatilityBps ?? 8) / 10_000;
  const syms: SymState[] = config.symbols.map((s) => ({
    symbol: s.symbol,
    mid: s.price,
    bid: 0,
    ask: 0,
    bidSize: 0,
    askSize: 0,
    ts: 0,
    tradeSeq: 0,
    quoteSeq: 0,
  }));
  let running = false;
  let last = 0;
  let carry = 0;
  let next = 0;
  const tick: Tick = {
    type: 'quote',
    source: def.id,
    symbol: '',
    ts: 0,
    seq: 0,
    price: 0,
    size: 0,
    bid: 0,
    bidSize: 0,
    ask: 0,
    askSize: 0,
  };

  function one(s: SymState, ts: number): void {
    s.mid = Math.max(0.05, s.mid * Math.exp(vol * rng.normal()));
    const half = Math.max(0.01, cents((s.mid * spread) / 2));
    s.bid = Math.max(0.01, cents(s.mid - half));
    s.ask = cents(s.bid + 2 * half);
    s.bidSize = 100 * rng.int(1, 20);
    s.askSize = 100 * rng.int(1, 20);
    s.ts = ts;
    tick.type = 'quote';
    tick.symbol = s.symbol;
    tick.ts = ts;
    tick.seq = ++s.quoteSeq;
    tick.bid = s.bid;
    tick.bidSize = s.bidSize;
    tick.ask = s.ask;
    tick.askSize = s.askSize;
    deps.sink.tick(tick);
    deps.sink.bookChanged(def.id, s.symbol);
    if (rng.next() < 0.4) {
      tick.type = 'trade';
      tick.seq = ++s.tradeSeq;
      tick.price = rng.next() < 0.5 ? s.bid : s.ask;
      tick.size = rng.next() < 0.9 ? 100 * rng.int(1, 5) : rng.int(1, 99);
      deps.sink.tick(tick);
    }
  }

  return {
    id: def.id,
    kind: 'simulated',
    definition: def,
    async start() {
      running = true;
      last = deps.clock.now();
      // a first quote at once, so the symbols are known before the first step
      for (const s of syms) one(s, last);
    },
    async stop() {
      running = false;
    },
    health: (): AdapterHealth => ({ state: running ? 'connected' : 'stopped', lastError: null }),
    step() {
      if (!running || syms.length === 0) return;
      const now = deps.clock.now();
      const from = Math.max(last, now - MAX_CATCH_UP_MS);
      if (now <= from) return;
      const exact = ((now - from) * config.ratePerSec) / 1000 + carry;
      const n = Math.floor(exact);
      carry = exact - n;
      for (let i = 0; i < n; i++) {
        const ts = from + Math.floor(((i + 1) * (now - from)) / n);
        one(syms[next]!, ts);
        next = (next + 1) % syms.length;
      }
      last = now;
    },
    book(symbol, levels) {
      const s = syms.find((x) => x.symbol === symbol);
      if (!s || s.ts === 0) return null;
      // a synthetic ladder around the quote: one cent apart, sizes growing away from the top
      const bids = [];
      const asks = [];
      for (let i = 0; i < levels; i++) {
        if (s.bid - i * 0.01 > 0) bids.push({ price: cents(s.bid - i * 0.01), qty: s.bidSize + 100 * i });
        asks.push({ price: cents(s.ask + i * 0.01), qty: s.askSize + 100 * i });
      }
      return { symbol, bids, asks, ts: s.ts, source: def.id } satisfies BookView;
    },
    symbols: () => syms.map((s) => s.symbol),
    observe(t) {
      const s = syms.find((x) => x.symbol === t.symbol);
      if (!s) return;
      if (t.type === 'quote') {
        s.bid = t.bid;
        s.ask = t.ask;
        s.bidSize = t.bidSize;
        s.askSize = t.askSize;
        s.mid = (t.bid + t.ask) / 2;
        s.quoteSeq = Math.max(s.quoteSeq, t.seq);
      } else {
        s.tradeSeq = Math.max(s.tradeSeq, t.seq);
      }
      s.ts = Math.max(s.ts, t.ts);
      // a takeover produces what is due from the last tick seen on (at most MAX_CATCH_UP_MS)
      last = Math.max(last, t.ts);
    },
  };
}

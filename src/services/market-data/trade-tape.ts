/** The most recent consolidated trades of each symbol, in preallocated rings (no per-trade object). */
import type { Trade } from './model.ts';

interface Ring {
  price: Float64Array;
  size: Float64Array;
  ts: Float64Array;
  source: string[];
  /** total written; the newest is at (count − 1) % capacity */
  count: number;
}

export interface TradeTape {
  push(symbol: string, price: number, size: number, ts: number, source: string): void;
  /** newest first */
  recent(symbol: string, limit: number): Trade[];
}

export function createTradeTape(capacity: number): TradeTape {
  const rings = new Map<string, Ring>();
  return {
    push(symbol, price, size, ts, source) {
      let r = rings.get(symbol);
      if (!r) {
        r = {
          price: new Float64Array(capacity),
          size: new Float64Array(capacity),
          ts: new Float64Array(capacity),
          source: new Array<string>(capacity).fill(''),
          count: 0,
        };
        rings.set(symbol, r);
      }
      const i = r.count % capacity;
      r.price[i] = price;
      r.size[i] = size;
      r.ts[i] = ts;
      r.source[i] = source;
      r.count++;
    },
    recent(symbol, limit) {
      const r = rings.get(symbol);
      if (!r) return [];
      const n = Math.min(limit, r.count, capacity);
      const out: Trade[] = [];
      for (let k = 0; k < n; k++) {
        const i = (r.count - 1 - k) % capacity;
        out.push({ symbol, price: r.price[i]!, size: r.size[i]!, ts: r.ts[i]!, source: r.source[i]! });
      }
      return out;
    },
  };
}

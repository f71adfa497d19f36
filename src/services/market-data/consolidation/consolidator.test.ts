import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manualClock } from '../../../platform/clock.ts';
import type { Tick } from '../model.ts';
import {
  ACCEPTED,
  ACCEPTED_PRIMARY,
  createConsolidator,
  DROPPED_DUPLICATE,
  DROPPED_OUT_OF_ORDER,
  DROPPED_UNKNOWN_SOURCE,
} from './consolidator.ts';

const quote = (source: string, symbol: string, seq: number, bid: number, ts = seq): Tick => ({
  type: 'quote',
  source,
  symbol,
  ts,
  seq,
  price: 0,
  size: 0,
  bid,
  bidSize: 100,
  ask: bid + 0.02,
  askSize: 200,
});

const trade = (source: string, symbol: string, seq: number, price: number, ts = seq): Tick => ({
  type: 'trade',
  source,
  symbol,
  ts,
  seq,
  price,
  size: 10,
  bid: 0,
  bidSize: 0,
  ask: 0,
  askSize: 0,
});

function setup() {
  const clock = manualClock(1_000_000);
  const c = createConsolidator(clock);
  c.setSources([
    { id: 'exchange', priority: 1, staleAfterMs: 1000 },
    { id: 'sim', priority: 5, staleAfterMs: 1000 },
  ]);
  return { clock, c };
}

describe('consolidator', () => {
  it('takes the quote and last trade of the best-ranked source', () => {
    const { c } = setup();
    expect(c.ingest(quote('sim', 'AAA', 1, 10))).toBe(ACCEPTED_PRIMARY);
    expect(c.quote('AAA')).toMatchObject({ bid: 10, source: 'sim' });
    expect(c.ingest(quote('exchange', 'AAA', 1, 11))).toBe(ACCEPTED_PRIMARY);
    expect(c.quote('AAA')).toMatchObject({
      bid: 11,
      ask: 11.02,
      bidSize: 100,
      askSize: 200,
      source: 'exchange',
    });
    // the lower-ranked source is still accepted, but is not the primary
    expect(c.ingest(quote('sim', 'AAA', 2, 12))).toBe(ACCEPTED);
    expect(c.quote('AAA')?.bid).toBe(11);
    expect(c.ingest(trade('sim', 'AAA', 1, 12))).toBe(ACCEPTED_PRIMARY);
    expect(c.lastTrade('AAA')).toMatchObject({ price: 12, source: 'sim' });
    expect(c.ingest(trade('exchange', 'AAA', 1, 11.5))).toBe(ACCEPTED_PRIMARY);
    expect(c.ingest(trade('sim', 'AAA', 2, 13))).toBe(ACCEPTED);
    expect(c.lastTrade('AAA')).toMatchObject({ price: 11.5, source: 'exchange' });
  });

  it('drops a silent source from the view once stale, and restores it when it speaks', () => {
    const { c, clock } = setup();
    c.ingest(quote('exchange', 'AAA', 1, 11));
    c.ingest(quote('sim', 'AAA', 1, 10));
    clock.advance(600);
    c.ingest(quote('sim', 'AAA', 2, 10.5)); // sim keeps talking, exchange goes silent
    clock.advance(500);
    expect(c.sweep()).toEqual(['exchange']);
    expect(c.isStale('exchange')).toBe(true);
    expect(c.stats('exchange')?.stale).toBe(true);
    expect(c.quote('AAA')).toMatchObject({ bid: 10.5, source: 'sim' });
    expect(c.sweep()).toEqual([]); // reported once
    clock.advance(100);
    expect(c.ingest(quote('exchange', 'AAA', 2, 11.1))).toBe(ACCEPTED_PRIMARY);
    expect(c.isStale('exchange')).toBe(false);
    expect(c.quote('AAA')).toMatchObject({ bid: 11.1, source: 'exchange' });
  });

  it('keeps a quiet source live on heartbeats, and restores a stale one', () => {
    const { c, clock } = setup();
    c.ingest(quote('exchange', 'AAA', 1, 11));
    clock.advance(900);
    c.touch('exchange');
    clock.advance(900);
    c.sweep();
    expect(c.isStale('exchange')).toBe(false);
    clock.advance(1001);
    c.sweep();
    expect(c.quote('AAA')).toBeNull();
    c.touch('exchange');
    expect(c.quote('AAA')).toMatchObject({ bid: 11, source: 'exchange' });
    expect(c.stats('exchange')?.messages).toBe(1); // a heartbeat is not a message
  });

  it('marks a source that never spoke stale after staleAfterMs', () => {
    const { c, clock } = setup();
    clock.advance(1000);
    expect(c.sweep()).toEqual([]);
    clock.advance(1);
    expect(c.sweep().sort()).toEqual(['exchange', 'sim']);
  });

  it('drops and counts duplicates and out-of-order messages, per source, symbol and type', () => {
    const { c } = setup();
    expect(c.ingest(trade('exchange', 'AAA', 5, 10))).toBe(ACCEPTED_PRIMARY);
    expect(c.ingest(trade('exchange', 'AAA', 5, 99))).toBe(DROPPED_DUPLICATE);
    expect(c.ingest(trade('exchange', 'AAA', 4, 99))).toBe(DROPPED_OUT_OF_ORDER);
    // another symbol and another type have their own sequences
    expect(c.ingest(trade('exchange', 'BBB', 1, 20))).toBe(ACCEPTED_PRIMARY);
    expect(c.ingest(quote('exchange', 'AAA', 1, 9))).toBe(ACCEPTED_PRIMARY);
    expect(c.lastTrade('AAA')?.price).toBe(10);
    expect(c.stats('exchange')).toMatchObject({ duplicates: 1, outOfOrder: 1, messages: 5 });
    expect(c.stats('sim')).toMatchObject({ duplicates: 0, outOfOrder: 0 });
  });

  it('orders sequence-less messages by timestamp', () => {
    const { c } = setup();
    expect(c.ingest(trade('sim', 'AAA', 0, 10, 500))).toBe(ACCEPTED_PRIMARY);
    expect(c.ingest(trade('sim', 'AAA', 0, 11, 500))).toBe(ACCEPTED_PRIMARY);
    expect(c.ingest(trade('sim', 'AAA', 0, 12, 499))).toBe(DROPPED_OUT_OF_ORDER);
    expect(c.lastTrade('AAA')?.price).toBe(11);
  });

  it('ignores unknown sources and forgets removed ones', () => {
    const { c } = setup();
    expect(c.ingest(quote('nope', 'AAA', 1, 10))).toBe(DROPPED_UNKNOWN_SOURCE);
    c.ingest(quote('exchange', 'AAA', 1, 11));
    c.setSources([{ id: 'sim', priority: 5, staleAfterMs: 1000 }]);
    expect(c.quote('AAA')).toBeNull();
    expect(c.ingest(quote('exchange', 'AAA', 2, 11))).toBe(DROPPED_UNKNOWN_SOURCE);
  });

  it('agrees with a brute-force model on random streams (fast-check)', () => {
    const sources = ['a', 'b', 'c'];
    const event = fc.oneof(
      fc.record({
        kind: fc.constant('tick' as const),
        type: fc.constantFrom('trade' as const, 'quote' as const),
        source: fc.constantFrom(...sources),
        symbol: fc.constantFrom('X', 'Y'),
        seq: fc.integer({ min: 0, max: 8 }),
        price: fc.integer({ min: 1, max: 1000 }),
      }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 700 }) }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 120 }), (events) => {
        const clock = manualClock(0);
        const c = createConsolidator(clock);
        const ranks = { a: 1, b: 2, c: 3 } as Record<string, number>;
        c.setSources(sources.map((id) => ({ id, priority: ranks[id]!, staleAfterMs: 1000 })));
        // the model: last accepted value per (source, symbol, type), seen-times, staleness
        const last = new Map<string, { seq: number; ts: number; price: number }>();
        const spoke = new Map<string, number>(sources.map((s) => [s, 0]));
        const stale = new Set<string>();
        let ts = 0;
        for (const e of events) {
          if (e.kind === 'wait') {
            clock.advance(e.ms);
            c.sweep();
            for (const s of sources) if (clock.now() - spoke.get(s)! > 1000) stale.add(s);
            continue;
          }
          ts++;
          const tick =
            e.type === 'trade'
              ? trade(e.source, e.symbol, e.seq, e.price, ts)
              : quote(e.source, e.symbol, e.seq, e.price, ts);
          const outcome = c.ingest(tick);
          spoke.set(e.source, clock.now());
          stale.delete(e.source);
          const key = `${e.source}|${e.symbol}|${e.type}`;
          const prev = last.get(key);
          const accept = !prev || (e.seq > 0 ? e.seq > prev.seq : true);
          expect(outcome >= ACCEPTED).toBe(accept);
          if (accept) last.set(key, { seq: e.seq > 0 ? e.seq : (prev?.seq ?? 0), ts, price: e.price });
          for (const symbol of ['X', 'Y']) {
            for (const type of ['trade', 'quote'] as const) {
              const best = sources.find((s) => !stale.has(s) && last.has(`${s}|${symbol}|${type}`));
              const got = type === 'trade' ? c.lastTrade(symbol) : c.quote(symbol);
              if (!best) expect(got).toBeNull();
              else {
                expect(got?.source).toBe(best);
                const v = last.get(`${best}|${symbol}|${type}`)!.price;
                expect(
                  type === 'trade' ? (got as { price: number }).price : (got as { bid: number }).bid,
                ).toBe(v);
              }
            }
          }
        }
      }),
    );
  });
});

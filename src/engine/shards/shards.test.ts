/**
 * Risk shards (by account) and matching shards (by symbol) together, on a simulated network that
 * delivers every message at least once, in any order, sometimes twice. After every step nothing is
 * negative; once the network is quiet every invariant of the single engine holds across shards:
 * cash and shares conserved, every matching shard keeps exactly its open orders' reservations and
 * its risk shards know it, each trade settled once at each side, and the open orders agree.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Command, EngineEvent, NewOrderCommand, TradeEvent } from '../../domain/exchange.ts';
import { createExchange } from '../exchange.ts';
import { CONFIG, FEES, spec } from '../test-kit.ts';
import { createInbox, type Envelope, envelope, receive } from './channel.ts';
import { matchingShardOf, orderIdAt, riskShardOf, type ShardLayout } from './layout.ts';
import { applyAdmin, createMatchingShard, deliverRoute } from './matching-shard.ts';
import type { RouteBody, SettleBody } from './messages.ts';
import { applyRisk, createRiskShard, deliverSettle, type RiskCommand, type RiskEvent } from './risk-shard.ts';

const SYMBOLS = ['ACME', 'BOLT'];
const ACCOUNTS = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5'];

type InFlight = { kind: 'route'; env: Envelope<RouteBody> } | { kind: 'settle'; env: Envelope<SettleBody> };

function createSim(layout: ShardLayout) {
  const risks = Array.from({ length: layout.riskShards }, (_, i) => createRiskShard(CONFIG, i, layout));
  const matchers = Array.from({ length: layout.matchingShards }, (_, i) =>
    createMatchingShard(CONFIG, i, layout),
  );
  const net: InFlight[] = [];
  const trades: TradeEvent[] = [];
  const riskEvents: RiskEvent[] = [];
  const counters = risks.map(() => 0);
  let ts = 1;
  let netCash = 0;
  const netShares = new Map<string, number>();
  const sim = {
    risks,
    matchers,
    net,
    trades,
    riskEvents,
    /** a new order id at the account's risk shard */
    nextId(account: string): number {
      const r = riskShardOf(account, layout);
      counters[r]! += 1;
      return orderIdAt(counters[r]!, r, layout);
    },
    risk(c: RiskCommand) {
      const r = risks[riskShardOf((c as { account: string }).account, layout)]!;
      const out = applyRisk(r, { ...c, ts: ts++ } as RiskCommand);
      const rejected = out.events.some((e) => e.type === 'rejected');
      if (!rejected && c.type === 'deposit') netCash += c.amount;
      if (!rejected && c.type === 'withdraw') netCash -= c.amount;
      if (!rejected && c.type === 'transfer_shares') {
        netShares.set(c.symbol, (netShares.get(c.symbol) ?? 0) + c.qty);
      }
      for (const env of out.messages) net.push({ kind: 'route', env });
      return out.events;
    },
    admin(c: Extract<Command, { type: 'add_instrument' | 'session' | 'halt' }>) {
      if (c.type === 'add_instrument') for (const r of risks) applyRisk(r, c);
      const targets =
        c.type === 'add_instrument' ? [matchers[matchingShardOf(c.spec.symbol, layout)]!] : matchers;
      for (const m of targets) take(applyAdmin(m, { ...c, ts: ts++ }));
    },
    /** deliver the i-th message in flight; with `again` it stays in flight (a duplicate will come) */
    deliver(i: number, again: boolean) {
      const msg = net[i]!;
      if (!again) net.splice(i, 1);
      const to = msg.kind === 'route' ? matchers[msg.env.to]!.inbox : risks[msg.env.to]!.inbox;
      const last = to.applied.get(msg.env.from) ?? 0;
      if (msg.env.seq <= last) sim.duplicates++;
      else if (msg.env.seq > last + 1) sim.early++;
      if (msg.kind === 'route') take(deliverRoute(matchers[msg.env.to]!, msg.env));
      else riskEvents.push(...deliverSettle(risks[msg.env.to]!, msg.env).events);
    },
    quiesce() {
      while (net.length > 0) sim.deliver(0, false);
    },
    duplicates: 0,
    early: 0,
    netCash: () => netCash,
    netShares: () => netShares,
  };
  function take(out: { events: EngineEvent[]; messages: Envelope<SettleBody>[] }) {
    for (const e of out.events) if (e.type === 'trade') trades.push(e);
    for (const env of out.messages) net.push({ kind: 'settle', env });
  }
  return sim;
}
type Sim = ReturnType<typeof createSim>;

function list(sim: Sim) {
  for (const s of SYMBOLS) sim.admin({ type: 'add_instrument', ts: 0, spec: spec({ symbol: s }) });
}

/** True at every moment, messages in flight or not. */
function checkAlways(sim: Sim) {
  for (const r of sim.risks) {
    for (const a of r.accounts.values()) {
      expect(a.cash).toBeGreaterThanOrEqual(0);
      expect(a.pendingCash).toBeGreaterThanOrEqual(0);
      for (const p of a.positions.values()) expect(p.qty).toBeGreaterThan(0);
      for (const q of a.pendingShares.values()) expect(q).toBeGreaterThan(0);
    }
  }
  for (const m of sim.matchers) {
    for (const s of m.exchange.exportState().accounts) {
      expect(s.reserved).toBeGreaterThanOrEqual(0);
      expect(s.cash).toBeGreaterThanOrEqual(s.reserved);
    }
  }
}

/** True once nothing is in flight. */
function checkQuiet(sim: Sim) {
  expect(sim.net).toHaveLength(0);
  let cash = 0;
  const shares = new Map<string, number>();
  const add = (symbol: string, qty: number) => shares.set(symbol, (shares.get(symbol) ?? 0) + qty);
  for (const r of sim.risks) {
    for (const a of r.accounts.values()) {
      expect(a.pendingCash).toBe(0);
      expect(a.pendingShares.size).toBe(0);
      cash += a.cash;
      for (const [symbol, p] of a.positions) add(symbol, p.qty);
      for (const [m, kept] of a.kept) {
        const x = sim.matchers[m]!.exchange;
        // the risk shard knows exactly what the matching shard keeps
        expect(x.account(a.id)?.cash ?? 0).toBe(kept.cash);
        for (const h of kept.shares) expect(x.position(a.id, h.symbol)?.qty).toBe(h.qty);
      }
    }
  }
  for (const m of sim.matchers) {
    const x = m.exchange;
    for (const acc of x.exportState().accounts) {
      // a matching shard keeps nothing but reservations, and those are what its open orders need
      expect(acc.cash).toBe(acc.reserved);
      expect(acc.reserved).toBe(x.requiredReservation(acc.account).cash);
      cash += acc.cash;
      if (acc.account !== FEES) {
        const r = sim.risks[riskShardOf(acc.account, m.layout)]!;
        expect(r.accounts.get(acc.account)?.kept.get(m.shard)?.cash ?? 0).toBe(acc.cash);
      }
    }
    for (const p of x.exportState().positions) {
      expect(p.qty).toBe(p.reserved);
      expect(p.reserved).toBe(x.requiredReservation(p.account).shares.get(p.symbol) ?? 0);
      add(p.symbol, p.qty);
    }
  }
  expect(cash).toBe(sim.netCash());
  for (const s of SYMBOLS) expect(shares.get(s) ?? 0).toBe(sim.netShares().get(s) ?? 0);
  // every trade settled exactly once at each side's risk shard
  const fills = new Map<string, number>();
  for (const e of sim.riskEvents) {
    if (e.type === 'fill') {
      const key = `${e.order.symbol}/${e.tradeId}/${e.order.side}`;
      fills.set(key, (fills.get(key) ?? 0) + 1);
    }
  }
  expect(fills.size).toBe(sim.trades.length * 2);
  for (const n of fills.values()) expect(n).toBe(1);
  // the owners' views of open orders are the books' open orders
  const open = new Set<number>();
  for (const r of sim.risks) for (const id of r.orders.keys()) open.add(id);
  const booked = new Set<number>();
  for (const m of sim.matchers) {
    for (const o of m.exchange.openOrders()) {
      const g = m.byEngineId.get(o.id)!;
      booked.add(g.riskBase + (o.id - g.engineBase));
    }
  }
  expect([...open].sort()).toEqual([...booked].sort());
}

type Step =
  | { t: 'deposit'; a: number; amount: number }
  | { t: 'shares'; a: number; s: number; qty: number }
  | { t: 'withdraw'; a: number; amount: number }
  | {
      t: 'order';
      a: number;
      s: number;
      buy: boolean;
      kind: 'limit' | 'market' | 'stop_limit' | 'ioc';
      qty: number;
      off: number;
    }
  | { t: 'cancel'; k: number }
  | { t: 'replace'; k: number; qty: number; off: number }
  | { t: 'close' }
  | { t: 'deliver'; k: number; again: boolean };

const stepGen: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('deposit' as const),
      a: fc.nat(5),
      amount: fc.integer({ min: 1, max: 5_000_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('shares' as const),
      a: fc.nat(5),
      s: fc.nat(1),
      qty: fc.integer({ min: 1, max: 500 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('withdraw' as const),
      a: fc.nat(5),
      amount: fc.integer({ min: 1, max: 3_000_000 }),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant('order' as const),
      a: fc.nat(5),
      s: fc.nat(1),
      buy: fc.boolean(),
      kind: fc.constantFrom(
        'limit' as const,
        'limit' as const,
        'market' as const,
        'stop_limit' as const,
        'ioc' as const,
      ),
      qty: fc.integer({ min: 1, max: 300 }),
      off: fc.integer({ min: -100, max: 100 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('cancel' as const), k: fc.nat(1_000) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('replace' as const),
      k: fc.nat(1_000),
      qty: fc.integer({ min: 1, max: 400 }),
      off: fc.integer({ min: -200, max: 200 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'close' as const }) },
  {
    weight: 10,
    arbitrary: fc.record({ t: fc.constant('deliver' as const), k: fc.nat(1_000), again: fc.boolean() }),
  },
);

function orderCommand(sim: Sim, step: Extract<Step, { t: 'order' }>): NewOrderCommand {
  const account = ACCOUNTS[step.a]!;
  const price = 10_000 + step.off;
  const c: NewOrderCommand = {
    type: 'new_order',
    ts: 0,
    id: sim.nextId(account),
    account,
    symbol: SYMBOLS[step.s]!,
    side: step.buy ? 'buy' : 'sell',
    orderType: step.kind === 'ioc' ? 'limit' : step.kind,
    tif: step.kind === 'ioc' ? 'ioc' : step.kind === 'market' ? 'day' : 'gtc',
    qty: step.qty,
  };
  if (step.kind !== 'market') c.price = price;
  if (step.kind === 'stop_limit') c.stopPrice = step.buy ? price + 50 : price - 50;
  return c;
}

/** Every account starts with cash and shares of every symbol, so that most orders can trade. */
function fund(sim: Sim) {
  for (const account of ACCOUNTS) {
    sim.risk({ type: 'deposit', ts: 0, account, amount: 10_000_000 });
    for (const symbol of SYMBOLS) {
      sim.risk({ type: 'transfer_shares', ts: 0, account, symbol, qty: 1_000, cost: 9_000_000 });
    }
  }
}

function run(sim: Sim, steps: Step[], deliverAtOnce: boolean) {
  fund(sim);
  const placed: { id: number; account: string }[] = [];
  for (const step of steps) {
    switch (step.t) {
      case 'deposit':
        sim.risk({ type: 'deposit', ts: 0, account: ACCOUNTS[step.a]!, amount: step.amount });
        break;
      case 'withdraw':
        sim.risk({ type: 'withdraw', ts: 0, account: ACCOUNTS[step.a]!, amount: step.amount });
        break;
      case 'shares':
        sim.risk({
          type: 'transfer_shares',
          ts: 0,
          account: ACCOUNTS[step.a]!,
          symbol: SYMBOLS[step.s]!,
          qty: step.qty,
          cost: step.qty * 9_000,
        });
        break;
      case 'order': {
        const c = orderCommand(sim, step);
        const events = sim.risk(c);
        if (events[0]?.type === 'held') placed.push({ id: c.id, account: c.account });
        break;
      }
      case 'cancel':
      case 'replace': {
        if (placed.length === 0) break;
        const p = placed[step.k % placed.length]!;
        if (step.t === 'cancel') sim.risk({ type: 'cancel', ts: 0, id: p.id, account: p.account });
        else
          sim.risk({
            type: 'replace',
            ts: 0,
            id: p.id,
            account: p.account,
            qty: step.qty,
            price: 10_000 + step.off,
          });
        break;
      }
      case 'close':
        // the close expires every day order; the next session opens at once
        sim.admin({ type: 'session', ts: 0, state: 'closed' });
        sim.admin({ type: 'session', ts: 0, state: 'open' });
        break;
      case 'deliver':
        if (sim.net.length > 0) sim.deliver(step.k % sim.net.length, step.again);
        break;
    }
    if (deliverAtOnce) sim.quiesce();
    checkAlways(sim);
  }
  sim.quiesce();
  checkQuiet(sim);
}

describe('orders across risk shards (by account) and matching shards (by symbol)', () => {
  const layout: ShardLayout = { riskShards: 2, matchingShards: 2 };

  it('spreads the test accounts and symbols over both shards of each kind', () => {
    expect(new Set(ACCOUNTS.map((a) => riskShardOf(a, layout)))).toEqual(new Set([0, 1]));
    expect(new Set(SYMBOLS.map((s) => matchingShardOf(s, layout)))).toEqual(new Set([0, 1]));
  });

  it('keeps every invariant with messages delivered late, out of order and twice (R = 2, M = 2)', () => {
    const seen = { trades: 0, crossShardTrades: 0, duplicates: 0, early: 0, refusedAtMatching: 0 };
    fc.assert(
      fc.property(fc.array(stepGen, { minLength: 40, maxLength: 160, size: 'max' }), (steps) => {
        const sim = createSim(layout);
        list(sim);
        run(sim, steps, false);
        seen.trades += sim.trades.length;
        seen.crossShardTrades += sim.trades.filter(
          (t) => riskShardOf(t.buyAccount, layout) !== riskShardOf(t.sellAccount, layout),
        ).length;
        seen.duplicates += sim.duplicates;
        seen.early += sim.early;
        seen.refusedAtMatching += sim.riskEvents.filter((e) => e.type === 'rejected').length;
      }),
      { numRuns: 200 },
    );
    // what the runs went through, so that the property cannot pass by trading nothing
    expect(seen.trades).toBeGreaterThan(500);
    expect(seen.crossShardTrades).toBeGreaterThan(250);
    expect(seen.duplicates).toBeGreaterThan(1_000);
    expect(seen.early).toBeGreaterThan(1_000);
    expect(seen.refusedAtMatching).toBeGreaterThan(200);
  });

  it('trades across shards: both sides settle at their own risk shards', () => {
    const sim = createSim(layout);
    list(sim);
    // a0 (risk shard 0) buys BOLT (matching shard 0) from a1 (risk shard 1)
    sim.risk({ type: 'deposit', ts: 0, account: 'a1', amount: 1 });
    sim.risk({ type: 'deposit', ts: 0, account: 'a0', amount: 1_000_000 });
    sim.risk({ type: 'transfer_shares', ts: 0, account: 'a1', symbol: 'BOLT', qty: 10, cost: 90_000 });
    const sell: NewOrderCommand = {
      type: 'new_order',
      ts: 0,
      id: sim.nextId('a1'),
      account: 'a1',
      symbol: 'BOLT',
      side: 'sell',
      orderType: 'limit',
      tif: 'gtc',
      qty: 10,
      price: 10_000,
    };
    expect(sim.risk(sell)[0]).toMatchObject({ type: 'held', shares: 10, cash: 0 });
    sim.quiesce();
    const buy: NewOrderCommand = { ...sell, id: sim.nextId('a0'), account: 'a0', side: 'buy', qty: 4 };
    // held at a0's risk shard: 4 × $100 + the larger fee (20 bps) = 40,080 cents
    expect(sim.risk(buy)[0]).toMatchObject({ type: 'held', cash: 40_080 });
    const r0 = sim.risks[0]!;
    expect(r0.accounts.get('a0')!.cash).toBe(1_000_000 - 40_080);
    sim.quiesce();
    expect(sim.trades).toHaveLength(1);
    // the taker paid 40,000 + 80 fee; the seller got 40,000 − 40 (maker 10 bps); the fee account 120
    expect(r0.accounts.get('a0')).toMatchObject({ cash: 1_000_000 - 40_080, pendingCash: 0 });
    expect(r0.accounts.get('a0')!.positions.get('BOLT')).toEqual({ qty: 4, cost: 40_080 });
    const r1 = sim.risks[1]!;
    expect(r1.accounts.get('a1')!.cash).toBe(1 + 39_960);
    expect(r1.accounts.get('a1')!.kept.get(0)!.shares).toEqual([{ symbol: 'BOLT', qty: 6, cost: 54_000 }]);
    expect(sim.risks[riskShardOf(FEES, layout)]!.accounts.get(FEES)!.cash).toBe(120);
    checkQuiet(sim);
  });

  it('equals the single engine when every message is delivered at once (R = 1, M = 1)', () => {
    const one: ShardLayout = { riskShards: 1, matchingShards: 1 };
    fc.assert(
      fc.property(
        fc.array(
          stepGen.filter((s) => s.t !== 'deliver'),
          { minLength: 20, maxLength: 100, size: 'max' },
        ),
        (steps) => {
          const sim = createSim(one);
          list(sim);
          const x = createExchange(CONFIG);
          for (const s of SYMBOLS) x.apply({ type: 'add_instrument', ts: 0, spec: spec({ symbol: s }) });
          const single: TradeEvent[] = [];
          const keepTrades = (evs: readonly EngineEvent[]) => {
            for (const e of evs) if (e.type === 'trade') single.push(e);
            return evs;
          };
          // the same commands, to the single engine, with the same ids
          const origRisk = sim.risk;
          const origAdmin = sim.admin;
          sim.risk = (c) => {
            const seen = sim.riskEvents.length;
            const events = origRisk(c);
            sim.quiesce();
            const alone = keepTrades(x.apply(c as Command));
            // the verdict: refused at the risk shard, or later at the matching shard
            const refused = [...events, ...sim.riskEvents.slice(seen)].some(
              (e) => e.type === 'rejected' && e.command === c.type && (!('id' in c) || e.id === c.id),
            );
            expect(refused).toBe(alone.some((e) => e.type === 'rejected'));
            return events;
          };
          sim.admin = (c) => {
            origAdmin(c);
            if (c.type !== 'add_instrument') keepTrades(x.apply(c));
          };
          run(sim, steps, true);
          const strip = (t: TradeEvent) => [
            t.symbol,
            t.price,
            t.qty,
            t.buyAccount,
            t.sellAccount,
            t.buyFee,
            t.sellFee,
          ];
          for (const a of ACCOUNTS) {
            const r = sim.risks[0]!.accounts.get(a);
            const total = r === undefined ? 0 : r.cash + (r.kept.get(0)?.cash ?? 0);
            expect(total).toBe(x.account(a)?.cash ?? 0);
            for (const s of SYMBOLS) {
              const held =
                (r?.positions.get(s)?.qty ?? 0) +
                (r?.kept.get(0)?.shares.find((h) => h.symbol === s)?.qty ?? 0);
              expect(held).toBe(x.position(a, s)?.qty ?? 0);
            }
          }
          expect(sim.trades.map(strip)).toEqual(single.map(strip));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('ordered channels', () => {
  it('apply each message once, in the sender’s order, whatever order and duplicates arrive', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(20), { minLength: 1, maxLength: 60 }), (picks) => {
        const out = new Map<number, number>();
        const sent = Array.from({ length: 15 }, (_, i) => envelope(out, 0, 1, i));
        const inbox = createInbox<number>();
        const applied: number[] = [];
        const bag = [...sent];
        for (const p of picks) {
          if (bag.length === 0) break;
          const env = bag[p % bag.length]!;
          if (p % 3 !== 0) bag.splice(p % bag.length, 1); // else it is delivered again later
          applied.push(...receive(inbox, env));
        }
        for (const env of sent) applied.push(...receive(inbox, env));
        expect(applied).toEqual(sent.map((e) => e.body));
      }),
    );
  });
});

/**
 * Property tests: random command sequences over small pools of accounts, symbols and prices, with
 * the exchange's invariants checked after every command, and replay checked at the end.
 *
 * Commands are generated as plain data close to the real commands so that a shrunk counterexample
 * reads like a script. New order ids are assigned by position; cancels and replaces name "the k-th
 * most recent order" and, usually, its owner, so they keep hitting live orders as the list shrinks.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type {
  Command,
  EngineEvent,
  InstrumentSpec,
  NewOrderCommand,
  OrderClass,
  OrderType,
  SelfTradePrevention,
  SessionState,
  TimeInForce,
} from '../domain/exchange.ts';
import type { Exchange, ExchangeState } from './api.ts';
import { createExchange } from './exchange.ts';

const FEE_ACCOUNT = 'FEES';
const SPECS: InstrumentSpec[] = [
  {
    symbol: 'X',
    tickSize: 1,
    lotSize: 1,
    minQty: 1,
    maxQty: 40,
    priceBandBps: 1_500,
    collarBps: 800,
    referencePrice: 100,
  },
  {
    symbol: 'Y',
    tickSize: 5,
    lotSize: 10,
    minQty: 10,
    maxQty: 500,
    priceBandBps: 0,
    collarBps: 300,
    referencePrice: 1_000,
    fees: { makerBps: 0, takerBps: 70 },
  },
];

/** Opening balances: C is poor on purpose, so that risk checks fail often. */
function setup(): Command[] {
  const cmds: Command[] = SPECS.map((spec) => ({ type: 'add_instrument', ts: 0, spec }));
  const cash: [string, number][] = [
    ['A', 200_000],
    ['B', 80_000],
    ['C', 8_000],
  ];
  for (const [account, amount] of cash) cmds.push({ type: 'deposit', ts: 0, account, amount });
  const shares: [string, string, number][] = [
    ['A', 'X', 120],
    ['B', 'X', 60],
    ['C', 'X', 15],
    ['A', 'Y', 300],
    ['B', 'Y', 100],
  ];
  for (const [account, symbol, qty] of shares) {
    cmds.push({ type: 'transfer_shares', ts: 0, account, symbol, qty, cost: qty * 97 });
  }
  return cmds;
}

// ---- generated command descriptions ------------------------------------------------------------

type Gen =
  | {
      kind: 'order';
      account: string;
      symbol: string;
      side: 'buy' | 'sell';
      orderType: OrderType;
      tif: TimeInForce;
      /** lots */
      qty: number;
      /** ticks from the reference price */
      price: number;
      stop: number;
      postOnly: boolean;
      stp: SelfTradePrevention | null;
      /** push a price off the tick grid / the qty off the lot */
      malformed: boolean;
      /** trailing stops: trail in ticks (> 0) or in bps (< 0, negated); activation ticks from the reference */
      trail: number;
      activation: number | null;
      orderClass: OrderClass;
      /** legs: ticks away from the reference on the profitable (take profit) / losing (stop loss) side */
      tp: number;
      sl: number;
      slKind: 'stop' | 'stop_limit' | 'trail';
    }
  | { kind: 'cancel'; back: number; owner: boolean }
  | {
      kind: 'replace';
      back: number;
      owner: boolean;
      qty: number | null;
      price: number | null;
      stop: number | null;
      trail: number | null;
    }
  | { kind: 'deposit' | 'withdraw'; account: string; amount: number }
  | { kind: 'transfer'; account: string; symbol: string; qty: number }
  | { kind: 'halt'; symbol: string | null; halted: boolean }
  | { kind: 'session'; state: SessionState };

// constantFrom shrinks towards its first value: the plainest comes first. Unknown names are rare.
const account = fc.oneof(
  { arbitrary: fc.constantFrom('A', 'B', 'C'), weight: 30 },
  { arbitrary: fc.constantFrom('Z', FEE_ACCOUNT), weight: 1 },
);
const symbol = fc.oneof(
  { arbitrary: fc.constant('X'), weight: 20 },
  { arbitrary: fc.constant('Y'), weight: 8 },
  { arbitrary: fc.constant('Q'), weight: 1 },
);
// fast-check biases integers towards their bounds; these pools are uniform instead (and shrink to
// their first value). Prices sit within a few ticks of the reference, so that orders meet often.
const ticks = fc.constantFrom(0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6);
const lots = fc.constantFrom(1, 2, 3, 5, 8, 10, 13, 20, 30);
/** trailing stops: ticks (> 0) or basis points (< 0); 0 and 10000 bps are malformed */
const trails = fc.constantFrom(1, 2, 3, -100, -300, -50, 5, -1_000, 0, -10_000);
const legTicks = fc.constantFrom(1, 2, 3, 4, 6, 0);
/** true once in `n` draws, uniformly; shrinks to false */
function oneIn(n: number): fc.Arbitrary<boolean> {
  return fc.constantFrom(...new Array<boolean>(n - 1).fill(false), true);
}
/** `value` once in `n` draws, else null; shrinks to null */
function sometimes<T>(n: number, value: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return fc.oneof({ arbitrary: fc.constant(null), weight: n - 1 }, { arbitrary: value, weight: 1 });
}

function orderGen(types: OrderType[]): fc.Arbitrary<Gen> {
  return fc.record({
    kind: fc.constant('order' as const),
    account,
    symbol,
    side: fc.constantFrom('buy' as const, 'sell' as const),
    orderType: fc.constantFrom(...types),
    tif: fc.oneof(
      { arbitrary: fc.constantFrom<TimeInForce>('gtc', 'day'), weight: 3 },
      { arbitrary: fc.constantFrom<TimeInForce>('ioc', 'fok'), weight: 1 },
    ),
    qty: lots,
    price: ticks,
    stop: ticks,
    postOnly: oneIn(10),
    stp: sometimes(
      4,
      fc.constantFrom<SelfTradePrevention>('cancel_resting', 'cancel_incoming', 'cancel_both', 'allow'),
    ),
    malformed: oneIn(40),
    trail: trails,
    activation: sometimes(3, ticks),
    orderClass: fc.oneof(
      { arbitrary: fc.constant<OrderClass>('simple'), weight: 6 },
      { arbitrary: fc.constantFrom<OrderClass>('bracket', 'oco', 'oto'), weight: 3 },
    ),
    tp: legTicks,
    sl: legTicks,
    slKind: fc.constantFrom('stop' as const, 'stop_limit' as const, 'trail' as const),
  });
}

const cancelGen: fc.Arbitrary<Gen> = fc.record({
  kind: fc.constant('cancel' as const),
  back: fc.nat({ max: 8 }),
  owner: oneIn(12).map((b) => !b),
});

const replaceGen: fc.Arbitrary<Gen> = fc.record({
  kind: fc.constant('replace' as const),
  back: fc.nat({ max: 8 }),
  owner: oneIn(12).map((b) => !b),
  qty: sometimes(2, fc.constantFrom(1, 2, 5, 10, 20, 0, 35)),
  price: sometimes(2, ticks),
  stop: sometimes(6, ticks),
  trail: sometimes(4, trails),
});

const fundsGen: fc.Arbitrary<Gen> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('deposit' as const, 'withdraw' as const),
    account,
    amount: fc.constantFrom(1_000, 5_000, 20_000, 1, 0, 99_999),
  }),
  fc.record({
    kind: fc.constant('transfer' as const),
    account,
    symbol,
    qty: fc.constantFrom(10, -10, 30, -30, 1, -1, 0),
  }),
);

// Halts and closes are lifted more often than imposed, so that most of a run can trade.
const adminGen: fc.Arbitrary<Gen> = fc.oneof(
  fc.record({
    kind: fc.constant('halt' as const),
    symbol: fc.constantFrom<string | null>('X', null, 'Y', 'Q'),
    halted: oneIn(2),
  }),
  fc.record({
    kind: fc.constant('session' as const),
    state: fc.constantFrom<SessionState>('open', 'open', 'open', 'open', 'open', 'closed', 'pre_open'),
  }),
);

/** The mix: mostly orders, cancels and replaces; funding and market administration now and then. */
function commandsGen(types: OrderType[], minLength: number, maxLength: number): fc.Arbitrary<Gen[]> {
  return fc.array(
    fc.oneof(
      // Few cancels, so that liquidity builds up and orders meet.
      { arbitrary: orderGen(types), weight: 16 },
      { arbitrary: replaceGen, weight: 4 },
      { arbitrary: cancelGen, weight: 1 },
      { arbitrary: fundsGen, weight: 2 },
      { arbitrary: adminGen, weight: 1 },
    ),
    // 'max': lengths spread up to maxLength (the default size keeps arrays short).
    { minLength, maxLength, size: 'max' },
  );
}

// ---- from descriptions to commands ---------------------------------------------------------------

function priceOf(sym: string, ticksFromRef: number, malformed: boolean): number {
  const spec = SPECS.find((s) => s.symbol === sym) ?? SPECS[0]!;
  return spec.referencePrice + ticksFromRef * spec.tickSize + (malformed ? 1 : 0);
}

function trailOf(sym: string, trail: number): { trailPrice: number } | { trailBps: number } {
  const spec = SPECS.find((s) => s.symbol === sym) ?? SPECS[0]!;
  return trail >= 0 ? { trailPrice: trail * spec.tickSize } : { trailBps: -trail };
}

function lotsOf(sym: string, lots: number, malformed: boolean): number {
  const spec = SPECS.find((s) => s.symbol === sym) ?? SPECS[0]!;
  return lots * spec.lotSize + (malformed ? 1 : 0);
}

/**
 * Turn one description into a command. Cancels and replaces pick among the orders open right now
 * (the k-th most recent), so they exercise live orders; that is still a function of the command
 * history, and the resolved commands are what replay uses.
 */
function toCommand(g: Gen, i: number, x: Exchange): Command {
  const ts = 1_000 + i;
  switch (g.kind) {
    case 'order': {
      const hasLimit = g.orderType === 'limit' || g.orderType === 'stop_limit';
      const isStop = g.orderType === 'stop' || g.orderType === 'stop_limit';
      const trailing = g.orderType === 'trailing_stop';
      const command: NewOrderCommand = {
        type: 'new_order',
        ts,
        // room for the legs, which take the ids after their entry's
        id: 3 * i + 1,
        account: g.account,
        symbol: g.symbol,
        side: g.side,
        orderType: g.orderType,
        tif: g.tif,
        qty: lotsOf(g.symbol, g.qty, g.malformed && !hasLimit),
        ...(hasLimit ? { price: priceOf(g.symbol, g.price, g.malformed) } : {}),
        ...(isStop ? { stopPrice: priceOf(g.symbol, g.stop, false) } : {}),
        ...(trailing ? trailOf(g.symbol, g.trail) : {}),
        ...(trailing && g.activation !== null
          ? { activationPrice: priceOf(g.symbol, g.activation, false) }
          : {}),
        ...(g.postOnly ? { postOnly: true } : {}),
        ...(g.stp ? { selfTradePrevention: g.stp } : {}),
      };
      if (g.orderClass === 'simple') return command;
      // Legs on the sensible sides of the reference (a 0 makes some of them invalid on purpose).
      const exitBuys = g.orderClass === 'oco' ? g.side === 'buy' : g.side === 'sell';
      const dir = exitBuys ? -1 : 1;
      const tp = priceOf(g.symbol, dir * g.tp, false);
      const stopPrice = priceOf(g.symbol, -dir * g.sl, false);
      const stopLoss =
        g.slKind === 'trail'
          ? trailOf(g.symbol, g.trail)
          : g.slKind === 'stop'
            ? { stopPrice }
            : { stopPrice, price: priceOf(g.symbol, -dir * (g.sl + 1), false) };
      command.orderClass = g.orderClass;
      if (g.orderClass === 'oco') {
        command.orderType = 'limit';
        command.price = tp;
        delete command.stopPrice;
        delete command.trailPrice;
        delete command.trailBps;
        delete command.activationPrice;
        command.stopLoss = stopLoss;
      } else {
        if (g.orderType !== 'limit') {
          command.orderType = 'market';
          delete command.price;
        }
        delete command.stopPrice;
        delete command.trailPrice;
        delete command.trailBps;
        delete command.activationPrice;
        // bracket: both legs; oto: one of them, chosen by the stop-loss kind
        if (g.orderClass === 'bracket' || g.slKind === 'stop') command.takeProfit = { price: tp };
        if (g.orderClass === 'bracket' || g.slKind !== 'stop') command.stopLoss = stopLoss;
      }
      return command;
    }
    case 'cancel':
    case 'replace': {
      const open = x.openOrders();
      const target = open.length === 0 ? undefined : open[open.length - 1 - (g.back % open.length)];
      const id = target?.id ?? i;
      const who = target && g.owner ? target.account : 'B';
      if (g.kind === 'cancel') return { type: 'cancel', ts, id, account: who };
      const sym = target?.symbol ?? 'X';
      return {
        type: 'replace',
        ts,
        id,
        account: who,
        ...(g.qty !== null ? { qty: lotsOf(sym, g.qty, false) } : {}),
        ...(g.price !== null ? { price: priceOf(sym, g.price, false) } : {}),
        ...(g.stop !== null ? { stopPrice: priceOf(sym, g.stop, false) } : {}),
        ...(g.trail !== null ? trailOf(sym, g.trail) : {}),
      };
    }
    case 'deposit':
    case 'withdraw':
      return { type: g.kind, ts, account: g.account, amount: g.amount };
    case 'transfer':
      return {
        type: 'transfer_shares',
        ts,
        account: g.account,
        symbol: g.symbol,
        qty: g.qty,
        cost: Math.max(0, g.qty) * 95,
      };
    case 'halt':
      return { type: 'halt', ts, symbol: g.symbol, halted: g.halted };
    case 'session':
      return { type: 'session', ts, state: g.state };
  }
}

// ---- invariants ----------------------------------------------------------------------------------

function fail(message: string): never {
  throw new Error(message);
}

function totalCash(s: ExchangeState): number {
  return s.accounts.reduce((sum, a) => sum + a.cash, 0);
}

function sharesBySymbol(s: ExchangeState): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of s.positions) out.set(p.symbol, (out.get(p.symbol) ?? 0) + p.qty);
  return out;
}

interface Ledger {
  cash: number;
  shares: Map<string, number>;
}

/** Every invariant that must hold after every command. */
function checkAfter(
  x: Exchange,
  c: Command,
  events: EngineEvent[],
  before: ExchangeState,
  ledger: Ledger,
): ExchangeState {
  const after = x.exportState();
  const rejected = events.some((e) => e.type === 'rejected');
  if (rejected) {
    if (events.length !== 1) fail(`a rejected command emitted ${events.length} events`);
    if (JSON.stringify(after) !== JSON.stringify(before)) fail('a rejected command changed the state');
  } else if (c.type === 'deposit') {
    ledger.cash += c.amount;
  } else if (c.type === 'withdraw') {
    ledger.cash -= c.amount;
  } else if (c.type === 'transfer_shares') {
    ledger.shares.set(c.symbol, (ledger.shares.get(c.symbol) ?? 0) + c.qty);
  }

  // Cash moves only through deposits and withdrawals; trades move it between accounts (fees included).
  if (totalCash(after) !== ledger.cash) fail(`total cash ${totalCash(after)} != deposited ${ledger.cash}`);
  // Shares move only through transfers.
  const shares = sharesBySymbol(after);
  for (const sym of new Set([...shares.keys(), ...ledger.shares.keys()])) {
    if ((shares.get(sym) ?? 0) !== (ledger.shares.get(sym) ?? 0)) fail(`shares of ${sym} not conserved`);
  }

  for (const a of after.accounts) {
    if (a.cash < 0 || a.reserved < 0 || a.cash - a.reserved < 0)
      fail(`account ${a.account} negative: ${JSON.stringify(a)}`);
    const need = x.requiredReservation(a.account);
    if (need.cash !== a.reserved)
      fail(`account ${a.account} reserves ${a.reserved}, open orders need ${need.cash}`);
    const held = after.positions.filter((p) => p.account === a.account);
    for (const p of held) {
      if ((need.shares.get(p.symbol) ?? 0) !== p.reserved)
        fail(`position ${a.account}/${p.symbol} reserved mismatch`);
    }
    for (const [sym, qty] of need.shares) {
      if (qty > 0 && !held.some((p) => p.symbol === sym)) fail(`${a.account} sells ${sym} it does not hold`);
    }
  }
  for (const p of after.positions) {
    if (p.qty < 0 || p.reserved < 0 || p.qty - p.reserved < 0 || p.cost < 0)
      fail(`position negative: ${JSON.stringify(p)}`);
    if (p.qty === 0 && p.cost !== 0) fail('a flat position keeps a cost');
  }

  for (const inst of after.instruments) {
    const sym = inst.spec.symbol;
    const bid = x.bestBid(sym);
    const ask = x.bestAsk(sym);
    if (bid !== null && ask !== null && bid >= ask) fail(`${sym} book crossed: ${bid} >= ${ask}`);
    // The depth agrees with the open orders resting on it.
    const depth = x.depth(sym, 1_000);
    const canTrade = after.session === 'open' && !after.marketHalted && !inst.halted;
    // Nothing trades while the symbol cannot (a command lifting a halt may trade: it ends open).
    if (!canTrade && events.some((e) => e.type === 'trade' && e.symbol === sym))
      fail(`${sym} traded while it cannot trade`);
    const resting = new Map<string, [number, number]>();
    for (const o of after.openOrders) {
      if (o.symbol !== sym) continue;
      // Held legs work once their entry is done: it is open, and they are in no queue. A leg whose
      // entry is done waits (releasable) only while its symbol cannot trade.
      if (o.status === 'held') {
        const parent = after.openOrders.find((p) => p.id === o.parentId);
        if ((parent === undefined || parent.status === 'held') && canTrade)
          fail(`held leg ${o.id} has no open entry and ${sym} can trade`);
        continue;
      }
      const waiting =
        !o.triggered &&
        (o.orderType === 'stop' || o.orderType === 'stop_limit' || o.orderType === 'trailing_stop');
      if (o.orderType === 'trailing_stop' && !o.triggered) {
        // A trailing stop tracks (hwm and stop set, stop on the losing side of the mark) or awaits activation.
        if (
          (o.hwm ?? 0) === 0
            ? o.stopPrice !== 0
            : o.side === 'sell'
              ? o.stopPrice >= o.hwm!
              : o.stopPrice <= o.hwm!
        )
          fail(`trailing stop ${o.id} inconsistent: ${JSON.stringify(o)}`);
        if ((o.hwm ?? 0) === 0) continue;
      }
      if (waiting) {
        // Waiting stops sit on the far side of the last price (or they would have triggered).
        const ref = inst.referencePrice;
        if (o.side === 'buy' ? o.stopPrice <= ref : o.stopPrice >= ref)
          fail(`stop ${o.id} should have triggered`);
        continue;
      }
      if (o.orderType === 'market' || o.orderType === 'stop') fail(`order ${o.id} (${o.orderType}) rests`);
      if (o.tif === 'ioc' || o.tif === 'fok') fail(`order ${o.id} (${o.tif}) rests`);
      const key = `${o.side}@${o.price}`;
      const [q, n] = resting.get(key) ?? [0, 0];
      resting.set(key, [q + o.qty - o.filledQty, n + 1]);
    }
    const levels = [
      ...depth.bids.map((l) => ['buy', l] as const),
      ...depth.asks.map((l) => ['sell', l] as const),
    ];
    if (levels.length !== resting.size)
      fail(`${sym} depth has ${levels.length} levels, orders make ${resting.size}`);
    for (const [side, l] of levels) {
      const [q, n] = resting.get(`${side}@${l.price}`) ?? [0, 0];
      if (q !== l.qty || n !== l.orders)
        fail(`${sym} ${side} level ${l.price} is ${l.qty}/${l.orders}, orders make ${q}/${n}`);
    }
    // Each level's last book_changed of the command is its state now.
    for (const e of events) {
      if (e.type !== 'book_changed' || e.symbol !== sym) continue;
      const now = (e.side === 'buy' ? depth.bids : depth.asks).find((l) => l.price === e.price);
      if ((now?.qty ?? 0) !== e.qty || (now?.orders ?? 0) !== e.orders)
        fail(`book_changed ${JSON.stringify(e)} is stale`);
    }
  }

  for (const o of after.openOrders) {
    if (o.filledQty < 0 || o.filledQty >= o.qty) fail(`open order ${o.id} filled ${o.filledQty} of ${o.qty}`);
    if (o.status !== 'new' && o.status !== 'partially_filled' && o.status !== 'held')
      fail(`open order ${o.id} is ${o.status}`);
  }
  for (const e of events) {
    if ('order' in e && (e.order.filledQty > e.order.qty || e.order.filledQty < 0))
      fail(`overfilled ${e.order.id}`);
    // balance / position events carry the final totals
    if (e.type === 'balance') {
      const a = x.account(e.account);
      if (!a || a.cash !== e.cash || a.reserved !== e.reserved)
        fail(`balance event of ${e.account} is stale`);
    }
    if (e.type === 'position') {
      const p = x.position(e.account, e.symbol);
      if ((p?.qty ?? 0) !== e.qty || (p?.reserved ?? 0) !== e.reserved || (p?.cost ?? 0) !== e.cost) {
        fail(`position event of ${e.account}/${e.symbol} is stale`);
      }
    }
    if (e.type === 'trade' && (e.buyFee < 0 || e.sellFee < 0 || e.buyFee + e.sellFee > e.price * e.qty))
      fail('bad fees');
  }
  return after;
}

const CONFIG = {
  fees: { makerBps: 30, takerBps: 70 },
  selfTradePrevention: 'cancel_resting',
  feeAccount: FEE_ACCOUNT,
} as const;

/** What the runs exercised: event types, reject and cancel reasons (printed with ENGINE_PROPERTY_STATS=1). */
const seen = new Map<string, number>();
let runs = 0;
let commandsRun = 0;
function tally(events: EngineEvent[]): void {
  for (const e of events) {
    const key =
      e.type === 'rejected'
        ? `rejected ${e.reason}`
        : e.type === 'canceled'
          ? `canceled ${e.reason}`
          : e.type;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
}
afterAll(() => {
  if (!process.env.ENGINE_PROPERTY_STATS) return;
  console.log(`${runs} runs, ${commandsRun} commands`);
  console.log(
    [...seen]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${String(n).padStart(8)} ${k}`)
      .join('\n'),
  );
});

interface Run {
  commands: Command[];
  events: EngineEvent[][];
  state: ExchangeState;
}

/** Apply the setup and the generated commands, checking every invariant after each one. */
function run(gens: Gen[]): Run {
  const x = createExchange(CONFIG);
  const ledger: Ledger = { cash: 0, shares: new Map() };
  let state = x.exportState();
  const commands: Command[] = [];
  const events: EngineEvent[][] = [];
  const script = setup();
  runs++;
  commandsRun += gens.length;
  for (let i = 0; i < script.length + gens.length; i++) {
    const c = i < script.length ? script[i]! : toCommand(gens[i - script.length]!, i, x);
    commands.push(c);
    const out = x.apply(c);
    events.push(out);
    tally(out);
    try {
      state = checkAfter(x, c, out, state, ledger);
    } catch (err) {
      const lines = commands.slice(script.length).map((cmd) => JSON.stringify(cmd));
      throw new Error(
        `${(err as Error).message}\nafter the standard setup and:\n${lines.join('\n')}\nlast events: ${JSON.stringify(out)}`,
      );
    }
  }
  return { commands, events, state };
}

/** A fresh engine fed the same commands emits the same events and ends in the same state. */
function replayMatches(first: Run): void {
  const x = createExchange(CONFIG);
  first.commands.forEach((c, i) => {
    if (JSON.stringify(x.apply(c)) !== JSON.stringify(first.events[i]))
      fail(`replay diverged at command #${i}`);
  });
  expect(x.exportState()).toEqual(first.state);
}

describe('invariants over random command sequences', () => {
  it('hold after every command for the full mix, and replay reproduces events and state', () => {
    fc.assert(
      fc.property(
        commandsGen(['limit', 'limit', 'limit', 'market', 'stop', 'stop_limit', 'trailing_stop'], 10, 80),
        (gens) => {
          replayMatches(run(gens));
        },
      ),
      { numRuns: 1_200 },
    );
  });

  it('hold when stops and market orders dominate (cascades, collars)', () => {
    fc.assert(
      fc.property(commandsGen(['stop', 'stop_limit', 'trailing_stop', 'market', 'limit'], 10, 50), (gens) => {
        run(gens);
      }),
      { numRuns: 800 },
    );
  });

  it('hold for long sessions of limit orders and replaces (deeper books)', () => {
    fc.assert(
      fc.property(commandsGen(['limit'], 100, 300), (gens) => {
        run(gens);
      }),
      { numRuns: 150 },
    );
  });
});

/**
 * Snapshot + tail = full replay: an engine restored from a snapshot taken after any command (sent
 * through JSON, as it is stored) and fed the rest of the commands emits exactly the events of the
 * original run and ends in its state.
 */
function snapshotMatches(first: Run, cuts: number[]): void {
  for (const cut of cuts) {
    const k = cut % (first.commands.length + 1);
    const before = createExchange(CONFIG);
    for (let i = 0; i < k; i++) before.apply(first.commands[i]!);
    const stored = JSON.parse(JSON.stringify(before.snapshot()));
    const x = createExchange(CONFIG, stored);
    expect(x.exportState()).toEqual(before.exportState());
    for (let i = k; i < first.commands.length; i++) {
      const got = JSON.stringify(x.apply(first.commands[i]!));
      if (got !== JSON.stringify(first.events[i])) {
        fail(
          `snapshot after command #${k} diverged at #${i}: ${JSON.stringify(first.commands[i])}\n` +
            `got ${got}\nwant ${JSON.stringify(first.events[i])}`,
        );
      }
    }
    expect(x.exportState()).toEqual(first.state);
    // and a snapshot of the restored engine is the snapshot of the original
    expect(x.snapshot()).toEqual(createExchange(CONFIG, x.snapshot()).snapshot());
  }
}

describe('snapshots', () => {
  it('snapshot + the rest of the commands gives the same events and state as the whole run', () => {
    fc.assert(
      fc.property(
        commandsGen(['limit', 'limit', 'limit', 'market', 'stop', 'stop_limit', 'trailing_stop'], 10, 120),
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        (gens, cuts) => {
          snapshotMatches(run(gens), cuts);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('refuses a snapshot taken under other exchange rules', () => {
    const x = createExchange(CONFIG);
    for (const c of setup()) x.apply(c);
    expect(() => createExchange({ ...CONFIG, fees: { makerBps: 1, takerBps: 2 } }, x.snapshot())).toThrow(
      /other exchange rules/,
    );
  });
});

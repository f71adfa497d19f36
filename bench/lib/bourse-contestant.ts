/** The Bourse exchange core as a benchmark contestant: `exchange.apply(cmd)`, the full core. */
import type { Command, EngineEvent, ExchangeConfig } from '../../src/domain/exchange.ts';
import type { Exchange } from '../../src/engine/api.ts';
import type { Contestant, RunCheck } from './contestant.ts';
import type { OpStream, WorkloadConfig } from './workload.ts';

export const SYMBOL = 'BENCH';
/** generous funding: no command in the stream may fail a risk check */
const CASH_PER_ACCOUNT = 100_000_000_000; // $1bn in cents
const SHARES_PER_ACCOUNT = 10_000_000;
const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

export const BENCH_EXCHANGE_CONFIG: ExchangeConfig = {
  fees: { makerBps: 1, takerBps: 2 },
  // the peer has no accounts, so self-trades must trade on both sides for identical books
  selfTradePrevention: 'allow',
  feeAccount: 'fees',
};

export function accountName(index: number): string {
  return `acct-${String(index).padStart(4, '0')}`;
}

/** instrument, session and funding commands that precede the stream (not part of the measurement) */
export function setupCommands(config: WorkloadConfig): Command[] {
  const cmds: Command[] = [
    {
      type: 'add_instrument',
      ts: T0,
      spec: {
        symbol: SYMBOL,
        tickSize: 1,
        lotSize: 1,
        minQty: 1,
        maxQty: 1_000_000,
        priceBandBps: 0,
        collarBps: 5_000,
        referencePrice: config.referencePrice,
      },
    },
    { type: 'session', ts: T0, state: 'open' },
  ];
  for (let a = 0; a < config.accounts; a++) {
    const account = accountName(a);
    cmds.push({ type: 'deposit', ts: T0, account, amount: CASH_PER_ACCOUNT });
    cmds.push({
      type: 'transfer_shares',
      ts: T0,
      account,
      symbol: SYMBOL,
      qty: SHARES_PER_ACCOUNT,
      cost: SHARES_PER_ACCOUNT * config.referencePrice,
    });
  }
  return cmds;
}

/** ops [from, to) as engine commands: new GTC limit / IOC limit → new_order, cancel, move → replace */
export function toCommands(ops: OpStream, from: number, to: number, accounts: readonly string[]): Command[] {
  const out: Command[] = new Array(to - from);
  for (let i = from; i < to; i++) {
    const op = ops.at(i);
    const ts = T0 + 1 + i;
    const account = accounts[op.account]!;
    switch (op.kind) {
      case 'limit':
      case 'ioc':
        out[i - from] = {
          type: 'new_order',
          ts,
          id: op.id,
          account,
          symbol: SYMBOL,
          side: op.side === 0 ? 'buy' : 'sell',
          orderType: 'limit',
          tif: op.kind === 'limit' ? 'gtc' : 'ioc',
          qty: op.qty,
          price: op.price,
        };
        break;
      case 'cancel':
        out[i - from] = { type: 'cancel', ts, id: op.id, account };
        break;
      case 'move':
        out[i - from] = { type: 'replace', ts, id: op.id, account, price: op.price };
        break;
    }
  }
  return out;
}

export function createBourseContestant(
  exchange: Exchange,
  config: WorkloadConfig,
  ops: OpStream,
): Contestant {
  // one string per account, shared by every command, as a sequencer would hold them
  const accounts = Array.from({ length: config.accounts }, (_, a) => accountName(a));
  for (const cmd of setupCommands(config)) {
    const events = exchange.apply(cmd);
    const rejected = events.find((e) => e.type === 'rejected');
    if (rejected) throw new Error(`setup command ${cmd.type} rejected: ${JSON.stringify(rejected)}`);
  }
  let cmds: Command[] = [];
  let base = 0;
  let refused = 0;
  let trading = 0;
  let sink = 0;
  const inspect = (events: EngineEvent[], i: number): void => {
    let traded = false;
    for (let e = 0; e < events.length; e++) {
      const t = events[e]!.type;
      if (t === 'rejected') {
        refused++;
        if (refused <= 5) console.error(`bourse rejected op #${base + i}: ${JSON.stringify(events[e])}`);
      } else if (t === 'trade') traded = true;
    }
    if (traded) trading++;
  };

  return {
    name: 'bourse',
    load(from, to) {
      cmds = [];
      cmds = toCommands(ops, from, to, accounts);
      base = from;
    },
    applyLoaded() {
      for (let i = 0; i < cmds.length; i++) inspect(exchange.apply(cmds[i]!), i);
    },
    timeLoaded() {
      const n = cmds.length;
      let count = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) count += exchange.apply(cmds[i]!).length;
      const t1 = process.hrtime.bigint();
      sink += count;
      return Number(t1 - t0);
    },
    sampleLoaded(out) {
      const n = cmds.length;
      for (let i = 0; i < n; i++) {
        const t0 = process.hrtime.bigint();
        const events = exchange.apply(cmds[i]!);
        const t1 = process.hrtime.bigint();
        out[i] = Number(t1 - t0);
        inspect(events, i);
      }
    },
    check(): RunCheck {
      cmds = [];
      const depth = exchange.depth(SYMBOL, Number.MAX_SAFE_INTEGER);
      let orders = 0;
      let bidVolume = 0;
      let askVolume = 0;
      for (const l of depth.bids) {
        orders += l.orders;
        bidVolume += l.qty;
      }
      for (const l of depth.asks) {
        orders += l.orders;
        askVolume += l.qty;
      }
      if (sink < 0) console.log(sink); // keeps the timed loops' results observable
      return {
        refused,
        trading,
        orders,
        bestBid: exchange.bestBid(SYMBOL),
        bestAsk: exchange.bestAsk(SYMBOL),
        bidVolume,
        askVolume,
      };
    },
  };
}

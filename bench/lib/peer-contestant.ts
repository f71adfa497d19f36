/**
 * The peer: npm `nodejs-order-book` (v10), given the identical stream. Mapping: new GTC limit →
 * `limit` (GTC), IOC → `limit` with timeInForce IOC, cancel → `cancel`, move → `modify` with the new
 * price (the library re-enters the order at the back of the queue and matches it, like ours).
 * It has no accounts, risk or fees, so it does strictly less work per command than the Bourse core.
 */
import { type IProcessOrder, type LimitOrderOptions, OrderBook, Side } from 'nodejs-order-book';
import type { Contestant, RunCheck } from './contestant.ts';
import type { OpStream } from './workload.ts';

export const PEER_NAME = 'nodejs-order-book';

// The enum is declared in the typings but not exported at runtime; its values are these strings.
const GTC = 'GTC' as NonNullable<LimitOrderOptions['timeInForce']>;
const IOC = 'IOC' as NonNullable<LimitOrderOptions['timeInForce']>;

/** One pre-built call; every field always set so the loop sees a single object shape. */
interface PeerOp {
  /** 0 = limit (GTC or IOC), 1 = cancel, 2 = modify */
  k: number;
  id: string;
  /** quantity entering the match (order size, or a moved order's remaining size) */
  qty: number;
  limit: LimitOrderOptions | null;
  update: { price: number } | null;
}

function toPeerOps(ops: OpStream, from: number, to: number): PeerOp[] {
  const out: PeerOp[] = new Array(to - from);
  for (let i = from; i < to; i++) {
    const op = ops.at(i);
    const id = String(op.id);
    switch (op.kind) {
      case 'limit':
      case 'ioc':
        out[i - from] = {
          k: 0,
          id,
          qty: op.qty,
          limit: {
            id,
            side: op.side === 0 ? Side.BUY : Side.SELL,
            size: op.qty,
            price: op.price,
            timeInForce: op.kind === 'limit' ? GTC : IOC,
          },
          update: null,
        };
        break;
      case 'cancel':
        out[i - from] = { k: 1, id, qty: op.qty, limit: null, update: null };
        break;
      case 'move':
        out[i - from] = { k: 2, id, qty: op.qty, limit: null, update: { price: op.price } };
        break;
    }
  }
  return out;
}

/** The cancel result is reported as an empty IProcessOrder when the order was found. */
const CANCELLED: IProcessOrder = {
  done: [],
  activated: [],
  partial: null,
  partialQuantityProcessed: 0,
  quantityLeft: 0,
  err: null,
};

function applyPeer(book: OrderBook, op: PeerOp): IProcessOrder | undefined {
  switch (op.k) {
    case 0:
      return book.limit(op.limit!);
    case 1:
      return book.cancel(op.id) === undefined ? undefined : CANCELLED;
    default:
      return book.modify(op.id, op.update!);
  }
}

export function createPeerContestant(ops: OpStream): Contestant {
  const book = new OrderBook();
  let peerOps: PeerOp[] = [];
  let base = 0;
  let refused = 0;
  let trading = 0;
  let sink = 0;
  const inspect = (op: PeerOp, result: IProcessOrder | undefined, i: number): void => {
    if (op.k === 1) {
      // cancel returns the removed order, undefined when there was none
      if (result === undefined) refused++;
      return;
    }
    if (result!.err) {
      refused++;
      if (refused <= 5) console.error(`peer error on op #${base + i}: ${result!.err.message}`);
    } else if (result!.quantityLeft < op.qty) trading++;
  };

  return {
    name: PEER_NAME,
    load(from, to) {
      peerOps = [];
      peerOps = toPeerOps(ops, from, to);
      base = from;
    },
    applyLoaded() {
      for (let i = 0; i < peerOps.length; i++) inspect(peerOps[i]!, applyPeer(book, peerOps[i]!), i);
    },
    timeLoaded() {
      const n = peerOps.length;
      let count = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        const op = peerOps[i]!;
        switch (op.k) {
          case 0:
            count += book.limit(op.limit!).done.length;
            break;
          case 1:
            if (book.cancel(op.id) !== undefined) count++;
            break;
          default:
            count += book.modify(op.id, op.update!).done.length;
        }
      }
      const t1 = process.hrtime.bigint();
      sink += count;
      return Number(t1 - t0);
    },
    sampleLoaded(out) {
      const n = peerOps.length;
      for (let i = 0; i < n; i++) {
        const op = peerOps[i]!;
        const t0 = process.hrtime.bigint();
        const result = applyPeer(book, op);
        const t1 = process.hrtime.bigint();
        out[i] = Number(t1 - t0);
        inspect(op, result, i);
      }
    },
    check(): RunCheck {
      peerOps = [];
      const [asks, bids] = book.depth();
      const snapshot = book.snapshot();
      let orders = 0;
      for (const l of snapshot.bids) orders += l.orders.length;
      for (const l of snapshot.asks) orders += l.orders.length;
      let bidVolume = 0;
      let askVolume = 0;
      for (const [, v] of bids) bidVolume += v;
      for (const [, v] of asks) askVolume += v;
      if (sink < 0) console.log(sink);
      return {
        refused,
        trading,
        orders,
        bestBid: bids.length > 0 ? Math.max(...bids.map(([p]) => p)) : null,
        bestAsk: asks.length > 0 ? Math.min(...asks.map(([p]) => p)) : null,
        bidVolume,
        askVolume,
      };
    },
  };
}

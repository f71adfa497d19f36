/**
 * A small reference order book used only while generating benchmark streams (never timed). It
 * applies price-time priority exactly as the contestants do (trade at the resting price, FIFO per
 * level, GTC remainder rests, IOC remainder is dropped, a price change re-enters at the back and
 * may trade), so the generator always knows which orders are resting and with what quantity:
 * every cancel and move in the stream names a live order, and nothing gets rejected.
 */
export type ModelSide = 0 | 1; // 0 = buy, 1 = sell

export interface MatchOutcome {
  trades: number;
  filledQty: number;
  rested: boolean;
}

export interface BookModel {
  readonly minPrice: number;
  readonly maxPrice: number;
  lastTradePrice: number;
  /** resting orders per side */
  count(side: ModelSide): number;
  /** non-empty price levels per side */
  levels(side: ModelSide): number;
  size(): number;
  bestBid(): number | null;
  bestAsk(): number | null;
  /** enter a new order (or a moved one); trades against the book, then rests if `gtc` */
  place(id: number, account: number, side: ModelSide, price: number, qty: number, gtc: boolean): MatchOutcome;
  cancel(id: number): void;
  /** price change: loses priority, may trade, rests the remainder */
  move(id: number, price: number): MatchOutcome;
  isResting(id: number): boolean;
  sideOf(id: number): ModelSide;
  priceOf(id: number): number;
  remainingOf(id: number): number;
  accountOf(id: number): number;
  /**
   * A random resting order id, `rnd` in [0, 1): uniform over the whole book, or over the first
   * `window` slots of the resting list (a small, slowly changing hot set, like exchange-core's
   * generator, which picks among the first 512 orders of its hash map).
   */
  pickResting(rnd: number, window?: number): number;
  /** total resting quantity per side */
  volume(side: ModelSide): number;
}

export function createBookModel(minPrice: number, maxPrice: number, lastTradePrice: number): BookModel {
  const span = maxPrice - minPrice + 1;
  // levels[side][price - minPrice] = FIFO of order ids
  const levels: (number[] | undefined)[][] = [new Array(span), new Array(span)];
  const orderCount = [0, 0];
  const levelCount = [0, 0];
  const volume = [0, 0];
  let bestBid = minPrice - 1; // below range = empty
  let bestAsk = maxPrice + 1; // above range = empty

  // per order id
  const side: number[] = [];
  const price: number[] = [];
  const remaining: number[] = [];
  const account: number[] = [];
  const restIndex: number[] = [];
  const resting: number[] = [];

  const model: BookModel = {
    minPrice,
    maxPrice,
    lastTradePrice,
    count: (s) => orderCount[s]!,
    levels: (s) => levelCount[s]!,
    size: () => resting.length,
    bestBid: () => (bestBid >= minPrice ? bestBid : null),
    bestAsk: () => (bestAsk <= maxPrice ? bestAsk : null),
    place,
    cancel,
    move(id, newPrice) {
      const s = side[id] as ModelSide;
      const qty = remaining[id]!;
      unrest(id);
      return place(id, account[id]!, s, newPrice, qty, true);
    },
    isResting: (id) => (restIndex[id] ?? -1) >= 0,
    sideOf: (id) => side[id] as ModelSide,
    priceOf: (id) => price[id]!,
    remainingOf: (id) => remaining[id]!,
    accountOf: (id) => account[id]!,
    pickResting: (rnd, window = 0) =>
      resting[Math.floor(rnd * (window > 0 ? Math.min(window, resting.length) : resting.length))]!,
    volume: (s) => volume[s]!,
  };

  function place(
    id: number,
    acct: number,
    s: ModelSide,
    px: number,
    qty: number,
    gtc: boolean,
  ): MatchOutcome {
    if (px < minPrice || px > maxPrice) throw new Error(`price ${px} outside model range`);
    side[id] = s;
    price[id] = px;
    account[id] = acct;
    let left = qty;
    let trades = 0;
    const other: ModelSide = s === 0 ? 1 : 0;
    const book = levels[other]!;
    while (left > 0) {
      const best = s === 0 ? bestAsk : bestBid;
      if (s === 0 ? best > px : best < px) break;
      const queue = book[best - minPrice]!;
      const maker = queue[0]!;
      const take = Math.min(left, remaining[maker]!);
      left -= take;
      remaining[maker] = remaining[maker]! - take;
      volume[other] = volume[other]! - take;
      trades++;
      model.lastTradePrice = best;
      if (remaining[maker] === 0) {
        queue.shift();
        dropResting(maker);
        orderCount[other] = orderCount[other]! - 1;
        if (queue.length === 0) removeLevel(other, best);
      }
    }
    remaining[id] = left;
    let rested = false;
    if (left > 0 && gtc) {
      rest(id, s, px);
      rested = true;
    }
    return { trades, filledQty: qty - left, rested };
  }

  function rest(id: number, s: ModelSide, px: number): void {
    const book = levels[s]!;
    let queue = book[px - minPrice];
    if (queue === undefined) book[px - minPrice] = queue = [];
    if (queue.length === 0) {
      levelCount[s] = levelCount[s]! + 1;
      if (s === 0) bestBid = Math.max(bestBid, px);
      else bestAsk = Math.min(bestAsk, px);
    }
    queue.push(id);
    orderCount[s] = orderCount[s]! + 1;
    volume[s] = volume[s]! + remaining[id]!;
    restIndex[id] = resting.length;
    resting.push(id);
  }

  function unrest(id: number): void {
    const s = side[id] as ModelSide;
    const px = price[id]!;
    const queue = levels[s]![px - minPrice]!;
    const at = queue.indexOf(id);
    if (at < 0) throw new Error(`order ${id} not resting`);
    queue.splice(at, 1);
    orderCount[s] = orderCount[s]! - 1;
    volume[s] = volume[s]! - remaining[id]!;
    dropResting(id);
    if (queue.length === 0) removeLevel(s, px);
  }

  function cancel(id: number): void {
    unrest(id);
    remaining[id] = 0;
  }

  function dropResting(id: number): void {
    const at = restIndex[id]!;
    const last = resting.pop()!;
    if (last !== id) {
      resting[at] = last;
      restIndex[last] = at;
    }
    restIndex[id] = -1;
  }

  function removeLevel(s: ModelSide, px: number): void {
    levelCount[s] = levelCount[s]! - 1;
    const book = levels[s]!;
    if (s === 0 && px === bestBid) {
      let p = px - 1;
      while (p >= minPrice && !(book[p - minPrice]?.length ?? 0)) p--;
      bestBid = p;
    } else if (s === 1 && px === bestAsk) {
      let p = px + 1;
      while (p <= maxPrice && !(book[p - minPrice]?.length ?? 0)) p++;
      bestAsk = p;
    }
  }

  return model;
}

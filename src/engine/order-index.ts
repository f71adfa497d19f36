/**
 * Open orders by id: an open-addressing hash table (linear probing, backward-shift deletion, load
 * factor <= 1/2) that stores only the order references and compares `order.id`.
 *
 * Why not a Map: with 100,000 open orders and constant churn, a lookup in V8's insertion-ordered
 * Map costs a bucket read, an entry read and the order read, each a likely cache miss, and deletes
 * leave holes that periodic rehashes clean up. Here a lookup is one slot read and the order itself,
 * which the caller needs anyway, and nothing is ever rehashed except when the table grows.
 *
 * Iteration is by id, which is acceptance order because ids increase.
 */

/** What the index needs of an order. */
export interface Identified {
  readonly id: number;
}

export interface OrderIndex<T extends Identified> {
  slots: (T | null)[];
  /** log2 of the number of slots */
  bits: number;
  size: number;
}

const INITIAL_BITS = 10;

export function createOrderIndex<T extends Identified>(): OrderIndex<T> {
  return { slots: new Array<T | null>(1 << INITIAL_BITS).fill(null), bits: INITIAL_BITS, size: 0 };
}

/** Fibonacci hashing: scatters any pattern of ids (sequential, strided) over the table. */
function home(id: number, bits: number): number {
  // fold the bits above 2^32 in, so that huge ids hash on all their bits
  const folded = (id | 0) ^ ((id / 4_294_967_296) | 0);
  return Math.imul(folded, 0x9e3779b1) >>> (32 - bits);
}

export function findOrder<T extends Identified>(index: OrderIndex<T>, id: number): T | undefined {
  const slots = index.slots;
  const mask = slots.length - 1;
  for (let i = home(id, index.bits); ; i = (i + 1) & mask) {
    const o = slots[i]!;
    if (o === null) return undefined;
    if (o.id === id) return o;
  }
}

/** Add an order whose id is not in the index. */
export function addOrder<T extends Identified>(index: OrderIndex<T>, o: T): void {
  if ((index.size + 1) * 2 > index.slots.length) grow(index);
  place(index.slots, index.bits, o);
  index.size++;
}

function place<T extends Identified>(slots: (T | null)[], bits: number, o: T): void {
  const mask = slots.length - 1;
  let i = home(o.id, bits);
  while (slots[i] !== null) i = (i + 1) & mask;
  slots[i] = o;
}

function grow<T extends Identified>(index: OrderIndex<T>): void {
  const old = index.slots;
  index.bits++;
  index.slots = new Array<T | null>(1 << index.bits).fill(null);
  for (let i = 0; i < old.length; i++) {
    const o = old[i]!;
    if (o !== null) place(index.slots, index.bits, o);
  }
}

/** Remove an order; later members of its probe run shift back, so no tombstones are needed. */
export function removeOrder<T extends Identified>(index: OrderIndex<T>, o: T): void {
  const slots = index.slots;
  const mask = slots.length - 1;
  let hole = home(o.id, index.bits);
  while (slots[hole] !== o) {
    if (slots[hole] === null) return;
    hole = (hole + 1) & mask;
  }
  index.size--;
  for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
    const next = slots[j]!;
    if (next === null) break;
    const h = home(next.id, index.bits);
    // `next` may fill the hole unless its home lies cyclically in (hole, j].
    const stays = hole <= j ? hole < h && h <= j : hole < h || h <= j;
    if (!stays) {
      slots[hole] = next;
      hole = j;
    }
  }
  slots[hole] = null;
}

/** All orders, by id (acceptance order). For queries and the rare bulk operations, not the hot path. */
export function ordersById<T extends Identified>(index: OrderIndex<T>): T[] {
  const out: T[] = [];
  const slots = index.slots;
  for (let i = 0; i < slots.length; i++) {
    const o = slots[i]!;
    if (o !== null) out.push(o);
  }
  return out.sort((a, b) => a.id - b.id);
}

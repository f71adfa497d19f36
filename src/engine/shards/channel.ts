/**
 * Ordered, exactly-once channels over a transport that delivers at least once, in any order
 * (JetStream redeliveries, a new leader re-sending its outbox). Each sender numbers its messages
 * per receiver, 1, 2, 3, …; the receiver applies number n only after n − 1, drops what it has
 * applied and keeps early arrivals until the gap is filled. Both ends are plain data, part of the
 * shard's deterministic state.
 */

export interface Envelope<T> {
  from: number;
  to: number;
  seq: number;
  body: T;
}

/** Per receiver: the number of the last message sent to it. */
export type Outbox = Map<number, number>;

export interface Inbox<T> {
  /** per sender: the number of the last message applied */
  applied: Map<number, number>;
  /** per sender: messages that arrived ahead of a gap */
  early: Map<number, Map<number, T>>;
}

export function createInbox<T>(): Inbox<T> {
  return { applied: new Map(), early: new Map() };
}

export function envelope<T>(out: Outbox, from: number, to: number, body: T): Envelope<T> {
  const seq = (out.get(to) ?? 0) + 1;
  out.set(to, seq);
  return { from, to, seq, body };
}

/** What this arrival lets the receiver apply now, in order: nothing for a duplicate or an early one. */
export function receive<T>(inbox: Inbox<T>, env: Envelope<T>): T[] {
  const last = inbox.applied.get(env.from) ?? 0;
  if (env.seq <= last) return [];
  let early = inbox.early.get(env.from);
  if (env.seq > last + 1) {
    if (early === undefined) {
      early = new Map();
      inbox.early.set(env.from, early);
    }
    early.set(env.seq, env.body);
    return [];
  }
  const ready = [env.body];
  let next = env.seq + 1;
  while (early?.has(next)) {
    ready.push(early.get(next)!);
    early.delete(next);
    next++;
  }
  if (early !== undefined && early.size === 0) inbox.early.delete(env.from);
  inbox.applied.set(env.from, next - 1);
  return ready;
}

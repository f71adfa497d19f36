import { createLogger, type Logger } from '../logger.ts';
import { deliver, deliverAndSettle } from './deliver.ts';
import { checkPattern, checkSubject, matches, retentionOf } from './subjects.ts';
import {
  type Bus,
  type BusMessage,
  checkKeep,
  DURABLE_INACTIVE_MS,
  type SubscribeOptions,
  type Unsubscribe,
} from './types.ts';

export interface MemoryBusOptions {
  /** Where handler errors go. */
  logger?: Logger;
  /**
   * The stand-ins for the NATS stream's retention, for ordinary events only (as NatsBusOptions):
   * an event waiting for a durable's subscriber is dropped once older than this (default 1 h) …
   */
  maxAgeMs?: number;
  /** … and a durable consumer without a subscriber for this long is removed (DURABLE_INACTIVE_MS). */
  durableInactiveMs?: number;
}

interface Item {
  subject: string;
  json: string;
  /** when it was published (Date.now()), for retention */
  at: number;
}

interface Subscription {
  pattern: string;
  handler: (msg: BusMessage) => void;
  /** Published but not yet handed to the handler, in publish order. */
  queue: Item[];
  scheduled: boolean;
  active: boolean;
  /** a durable consumer's subscriber: where an event its handler asked to redeliver goes */
  redeliver: ((item: Item) => void) | null;
}

/** A durable consumer: its subscribers share it (round-robin); with none, events wait. */
interface Durable {
  pattern: string;
  subscribers: Subscription[];
  next: number;
  /**
   * published while nobody was subscribed, in publish order; for ordinary events bounded by age and
   * MAX_BACKLOG, for KEPT_SUBJECTS not at all (kept until consumed)
   */
  backlog: Item[];
  kept: boolean;
  /** since when it has had no subscriber (Date.now()), null while it has one */
  idleSince: number | null;
}

/** The in-process stand-in for a stream's size limit: the oldest waiting ordinary events go beyond this. */
const MAX_BACKLOG = 100_000;

/**
 * The in-process bus of the all-in-one default. It behaves like the JetStream one where a
 * service could notice: delivery is asynchronous (a handler never runs inside `publish`),
 * per-subscription FIFO, and data goes through JSON, so a Date arrives as a string and a
 * subscriber can never mutate the publisher's object, exactly as over the network.
 */
export function createMemoryBus(options: MemoryBusOptions = {}): Bus {
  const logger = options.logger ?? createLogger({ name: 'bus' });
  const maxAgeMs = options.maxAgeMs ?? 60 * 60 * 1000;
  const inactiveMs = options.durableInactiveMs ?? DURABLE_INACTIVE_MS;
  const subscriptions = new Set<Subscription>();
  const durables = new Map<string, Durable>();
  let closed = false;

  const enqueue = (sub: Subscription, item: Item): void => {
    sub.queue.push(item);
    if (!sub.scheduled) {
      sub.scheduled = true;
      // setImmediate, not a microtask: a burst of publishes is delivered in one batch, and a
      // handler that publishes again cannot starve I/O.
      setImmediate(drain, sub);
    }
  };

  /** Retention of ordinary events: what is too old goes, and durables idle too long (as on NATS). */
  const expire = (now: number): void => {
    for (const [name, d] of durables) {
      if (d.kept || d.idleSince === null) continue;
      if (now - d.idleSince > inactiveMs) durables.delete(name);
      else {
        let old = 0;
        while (old < d.backlog.length && now - d.backlog[old]!.at > maxAgeMs) old++;
        if (old > 0) d.backlog.splice(0, old);
      }
    }
  };

  // as on JetStream, the first subscription (or declaration) fixes the consumer's subjects and its start (now)
  const durableOf = (name: string, pattern: string): Durable => {
    expire(Date.now());
    let d = durables.get(name);
    if (!d) {
      d = {
        pattern,
        subscribers: [],
        next: 0,
        backlog: [],
        kept: retentionOf(pattern) === 'until-consumed',
        idleSince: Date.now(),
      };
      durables.set(name, d);
    }
    return d;
  };

  const drain = (sub: Subscription): void => {
    sub.scheduled = false;
    const batch = sub.queue;
    sub.queue = [];
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i]!;
      if (!sub.active) {
        // unsubscribed meanwhile: the rest waits for the durable's other (or next) subscriber
        if (sub.redeliver) for (const rest of batch.slice(i)) sub.redeliver(rest);
        return;
      }
      const msg = { subject: item.subject, data: JSON.parse(item.json) };
      const again = sub.redeliver;
      if (again === null) deliver(sub.handler, msg, logger);
      else
        void deliverAndSettle(sub.handler, msg, logger).then((outcome) => {
          if (outcome === 'redeliver') again(item);
        });
    }
  };

  return {
    kind: 'memory',
    publish: async (subject, data) => {
      if (closed) throw new Error('Bus is closed');
      checkSubject(subject);
      const json = JSON.stringify(data);
      if (json === undefined) throw new Error(`Bus message on ${subject} is not JSON-serialisable`);
      const item: Item = { subject, json, at: Date.now() };
      expire(item.at);
      for (const sub of subscriptions) {
        if (matches(sub.pattern, subject)) enqueue(sub, item);
      }
      for (const d of durables.values()) {
        if (!matches(d.pattern, subject)) continue;
        if (d.subscribers.length === 0) {
          d.backlog.push(item);
          if (!d.kept && d.backlog.length > MAX_BACKLOG) d.backlog.shift();
          continue;
        }
        enqueue(d.subscribers[d.next++ % d.subscribers.length]!, item);
      }
    },
    subscribe: async <T>(
      pattern: string,
      handler: (msg: BusMessage<T>) => unknown,
      opts: SubscribeOptions = {},
    ): Promise<Unsubscribe> => {
      if (closed) throw new Error('Bus is closed');
      checkPattern(pattern);
      checkKeep(pattern, opts.keep, opts.durable !== undefined);
      const sub: Subscription = {
        pattern,
        handler: handler as (msg: BusMessage) => void,
        queue: [],
        scheduled: false,
        active: true,
        redeliver: null,
      };
      const name = opts.durable;
      if (name === undefined) {
        subscriptions.add(sub);
        return async () => {
          sub.active = false;
          subscriptions.delete(sub);
        };
      }
      const durable = durableOf(name, pattern);
      sub.redeliver = (item) => {
        if (closed) return;
        const to = durable.subscribers;
        if (to.length === 0) durable.backlog.unshift(item);
        else enqueue(to[durable.next++ % to.length]!, item);
      };
      durable.subscribers.push(sub);
      durable.idleSince = null;
      for (const item of durable.backlog.splice(0)) enqueue(sub, item);
      return async () => {
        sub.active = false;
        durable.subscribers = durable.subscribers.filter((s) => s !== sub);
        // what it had not handled yet waits for the next subscriber, as unacknowledged events would
        if (durable.subscribers.length === 0) {
          durable.backlog.unshift(...sub.queue);
          durable.idleSince = Date.now();
        } else for (const item of sub.queue) enqueue(durable.subscribers[0]!, item);
        sub.queue = [];
      };
    },
    declareDurable: async (name, pattern, opts = {}) => {
      if (closed) throw new Error('Bus is closed');
      checkPattern(pattern);
      checkKeep(pattern, opts.keep, true);
      durableOf(name, pattern);
    },
    close: async () => {
      closed = true;
      for (const sub of subscriptions) sub.active = false;
      subscriptions.clear();
      for (const d of durables.values()) for (const sub of d.subscribers) sub.active = false;
      durables.clear();
    },
  };
}

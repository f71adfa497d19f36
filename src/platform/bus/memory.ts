import { createLogger, type Logger } from '../logger.ts';
import { deliver, deliverAndSettle } from './deliver.ts';
import { checkPattern, checkSubject, matches } from './subjects.ts';
import type { Bus, BusMessage, SubscribeOptions, Unsubscribe } from './types.ts';

export interface MemoryBusOptions {
  /** Where handler errors go. */
  logger?: Logger;
}

interface Subscription {
  pattern: string;
  handler: (msg: BusMessage) => void;
  /** Published but not yet handed to the handler, in publish order. */
  queue: { subject: string; json: string }[];
  scheduled: boolean;
  active: boolean;
  /** a durable consumer's subscriber: where an event its handler asked to redeliver goes */
  redeliver: ((item: { subject: string; json: string }) => void) | null;
}

/** A durable consumer: its subscribers share it (round-robin); with none, events wait. */
interface Durable {
  pattern: string;
  subscribers: Subscription[];
  next: number;
  /** published while nobody was subscribed, in publish order (bounded: MAX_BACKLOG) */
  backlog: { subject: string; json: string }[];
}

/** The in-process stand-in for a stream's retention: the oldest waiting events go beyond this. */
const MAX_BACKLOG = 100_000;

/**
 * The in-process bus of the all-in-one default. It behaves like the JetStream one where a
 * service could notice: delivery is asynchronous (a handler never runs inside `publish`),
 * per-subscription FIFO, and data goes through JSON, so a Date arrives as a string and a
 * subscriber can never mutate the publisher's object, exactly as over the network.
 */
export function createMemoryBus(options: MemoryBusOptions = {}): Bus {
  const logger = options.logger ?? createLogger({ name: 'bus' });
  const subscriptions = new Set<Subscription>();
  const durables = new Map<string, Durable>();
  let closed = false;

  const enqueue = (sub: Subscription, item: { subject: string; json: string }): void => {
    sub.queue.push(item);
    if (!sub.scheduled) {
      sub.scheduled = true;
      // setImmediate, not a microtask: a burst of publishes is delivered in one batch, and a
      // handler that publishes again cannot starve I/O.
      setImmediate(drain, sub);
    }
  };

  // as on JetStream, the first subscription (or declaration) fixes the consumer's subjects and its start (now)
  const durableOf = (name: string, pattern: string): Durable => {
    let d = durables.get(name);
    if (!d) {
      d = { pattern, subscribers: [], next: 0, backlog: [] };
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
      for (const sub of subscriptions) {
        if (matches(sub.pattern, subject)) enqueue(sub, { subject, json });
      }
      for (const d of durables.values()) {
        if (!matches(d.pattern, subject)) continue;
        if (d.subscribers.length === 0) {
          d.backlog.push({ subject, json });
          if (d.backlog.length > MAX_BACKLOG) d.backlog.shift();
          continue;
        }
        enqueue(d.subscribers[d.next++ % d.subscribers.length]!, { subject, json });
      }
    },
    subscribe: async <T>(
      pattern: string,
      handler: (msg: BusMessage<T>) => unknown,
      opts: SubscribeOptions = {},
    ): Promise<Unsubscribe> => {
      if (closed) throw new Error('Bus is closed');
      checkPattern(pattern);
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
      for (const item of durable.backlog.splice(0)) enqueue(sub, item);
      return async () => {
        sub.active = false;
        durable.subscribers = durable.subscribers.filter((s) => s !== sub);
        // what it had not handled yet waits for the next subscriber, as unacknowledged events would
        if (durable.subscribers.length === 0) durable.backlog.unshift(...sub.queue);
        else for (const item of sub.queue) enqueue(durable.subscribers[0]!, item);
        sub.queue = [];
      };
    },
    declareDurable: async (name, pattern) => {
      if (closed) throw new Error('Bus is closed');
      checkPattern(pattern);
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

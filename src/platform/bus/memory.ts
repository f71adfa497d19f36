import { createLogger, type Logger } from '../logger.ts';
import { deliver } from './deliver.ts';
import { checkPattern, checkSubject, matches } from './subjects.ts';
import type { Bus, BusMessage, Unsubscribe } from './types.ts';

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
}

/**
 * The in-process bus of the all-in-one default. It behaves like the JetStream one where a
 * service could notice: delivery is asynchronous (a handler never runs inside `publish`),
 * per-subscription FIFO, and data goes through JSON, so a Date arrives as a string and a
 * subscriber can never mutate the publisher's object, exactly as over the network.
 */
export function createMemoryBus(options: MemoryBusOptions = {}): Bus {
  const logger = options.logger ?? createLogger({ name: 'bus' });
  const subscriptions = new Set<Subscription>();
  let closed = false;

  const drain = (sub: Subscription): void => {
    sub.scheduled = false;
    const batch = sub.queue;
    sub.queue = [];
    for (const { subject, json } of batch) {
      if (!sub.active) return;
      deliver(sub.handler, { subject, data: JSON.parse(json) }, logger);
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
        if (!matches(sub.pattern, subject)) continue;
        sub.queue.push({ subject, json });
        if (!sub.scheduled) {
          sub.scheduled = true;
          // setImmediate, not a microtask: a burst of publishes is delivered in one batch, and a
          // handler that publishes again cannot starve I/O.
          setImmediate(drain, sub);
        }
      }
    },
    subscribe: async <T>(pattern: string, handler: (msg: BusMessage<T>) => void): Promise<Unsubscribe> => {
      if (closed) throw new Error('Bus is closed');
      checkPattern(pattern);
      const sub: Subscription = {
        pattern,
        handler: handler as (msg: BusMessage) => void,
        queue: [],
        scheduled: false,
        active: true,
      };
      subscriptions.add(sub);
      return async () => {
        sub.active = false;
        subscriptions.delete(sub);
      };
    },
    close: async () => {
      closed = true;
      for (const sub of subscriptions) sub.active = false;
      subscriptions.clear();
    },
  };
}

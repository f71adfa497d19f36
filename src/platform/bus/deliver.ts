import type { Logger } from '../logger.ts';
import { type BusMessage, RedeliverError } from './types.ts';

/**
 * Calls a subscriber, keeping its failure (thrown, or a rejected promise from an async handler)
 * to itself: logged, never reaching the publisher or the other subscribers.
 */
export function deliver(handler: (msg: BusMessage) => unknown, msg: BusMessage, logger: Logger): void {
  const fail = (err: unknown) => logger.error({ err, subject: msg.subject }, 'bus subscriber failed');
  try {
    const result = handler(msg);
    if (result instanceof Promise) result.catch(fail);
  } catch (err) {
    fail(err);
  }
}

/**
 * The same, resolving once the handler has settled (a durable consumer acknowledges then) with
 * what to do with the event: `redeliver` when the handler threw RedeliverError, else `ack`.
 */
export async function deliverAndSettle(
  handler: (msg: BusMessage) => unknown,
  msg: BusMessage,
  logger: Logger,
): Promise<'ack' | 'redeliver'> {
  try {
    await handler(msg);
    return 'ack';
  } catch (err) {
    if (err instanceof RedeliverError) return 'redeliver';
    logger.error({ err, subject: msg.subject }, 'bus subscriber failed');
    return 'ack';
  }
}

import { KEPT_SUBJECTS, retentionOf } from './subjects.ts';

/**
 * The event bus: NATS JetStream in a cluster, in-process for the all-in-one default.
 * Subjects are dot-separated (`md.trade.AAPL`, `orders.exec.<account>`); subscriptions take NATS
 * wildcards (`*` one token, `>` the rest).
 */
export interface BusMessage<T = unknown> {
  subject: string;
  data: T;
}

export type Unsubscribe = () => Promise<void>;

export interface SubscribeOptions {
  /**
   * A durable consumer (issue 11): events published while no subscriber of this name is up are
   * kept and delivered when one subscribes again, and every subscriber with the same name (in
   * any process) shares one position, so each event goes to ONE of them (a work queue). For a
   * consumer that every instance must run on every event, put the instance's own stable name in
   * it. An event is acknowledged when its handler settles (an async handler's promise), so a crash
   * before that delivers it again: handlers must be idempotent. On NATS: a JetStream durable pull
   * consumer (starting at the events published after it was first created: by its first subscription,
   * or before that by `declareDurable`); removed by the server
   * after `DURABLE_INACTIVE_MS` without any subscriber. Without it: live from now on, per subscriber.
   */
  durable?: string;
  /**
   * Durable only, fixed when the consumer is first created: how long an event handed to a
   * subscriber that never settles it (it died, or unsubscribed with events still buffered) waits
   * before it goes to another (default 30,000). The in-process bus hands such events on at once.
   * Every subscriber of one name must give the same value (on NATS the last one sets it).
   */
  ackWaitMs?: number;
  /**
   * Durable only: this consumer must never lose an event to retention (an orders shard's channel,
   * which waits for message n before n + 1). The bus refuses the subscription (or declaration)
   * unless `pattern` lies within `KEPT_SUBJECTS`, whose events wait for their durable consumers
   * without an age limit and whose durable consumers do not expire. The class comes from the
   * subject (a message must be stored by the right stream before anyone subscribes); this option
   * makes a consumer's reliance on it explicit and checked.
   */
  keep?: 'until-consumed';
}

/**
 * Thrown (or rejected with) by a durable consumer's handler that did not handle the event and
 * wants it delivered again, to any subscriber of the name (itself included, if it is still
 * subscribed): e.g. a writer that lost its leadership before committing it. Any other error
 * acknowledges the event (logged: no poison-message loop).
 */
export class RedeliverError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RedeliverError';
  }
}

export interface Bus {
  readonly kind: 'nats' | 'memory';
  /** Resolves once the bus has accepted the message (JetStream: stored). */
  publish(subject: string, data: unknown): Promise<void>;
  /**
   * Live subscription from now on (or durable: SubscribeOptions); handler errors are logged,
   * never thrown into the publisher.
   */
  subscribe<T = unknown>(
    subject: string,
    handler: (msg: BusMessage<T>) => unknown,
    options?: SubscribeOptions,
  ): Promise<Unsubscribe>;
  /**
   * Makes sure the durable consumer `name` over `pattern` exists, without subscribing: what is
   * published from now on is kept for its subscribers even if none has subscribed yet (a durable
   * otherwise starts at its first subscription). For events that may be sent to a consumer before it
   * ever ran: an orders shard's messages to a shard that has not led yet. `ackWaitMs` as its
   * subscribers give it.
   */
  declareDurable(
    name: string,
    pattern: string,
    options?: Pick<SubscribeOptions, 'ackWaitMs' | 'keep'>,
  ): Promise<void>;
  close(): Promise<void>;
}

/**
 * How long a durable consumer of ordinary events outlives its last subscriber (the stream keeps
 * them 1 h). Durable consumers of `KEPT_SUBJECTS` never expire.
 */
export const DURABLE_INACTIVE_MS = 24 * 60 * 60 * 1000;

/** Refuses `keep: 'until-consumed'` on a pattern whose events are not kept until consumed. */
export function checkKeep(pattern: string, keep: SubscribeOptions['keep'], durable: boolean): void {
  if (keep === undefined) return;
  if (!durable) throw new Error(`Bus subscription ${pattern}: keep applies to durable consumers only`);
  if (retentionOf(pattern) !== 'until-consumed')
    throw new Error(
      `Bus subscription ${pattern} is not within ${KEPT_SUBJECTS.join(', ')}: its events are not kept until consumed`,
    );
}

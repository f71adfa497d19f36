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
   * consumer (starting at the events published after it was first created); removed by the server
   * after `DURABLE_INACTIVE_MS` without any subscriber. Without it: live from now on, per subscriber.
   */
  durable?: string;
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
  close(): Promise<void>;
}

/** How long a durable consumer outlives its last subscriber (the stream keeps events 1 h). */
export const DURABLE_INACTIVE_MS = 24 * 60 * 60 * 1000;

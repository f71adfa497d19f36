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

export interface Bus {
  readonly kind: 'nats' | 'memory';
  /** Resolves once the bus has accepted the message (JetStream: stored). */
  publish(subject: string, data: unknown): Promise<void>;
  /** Live subscription from now on; handler errors are logged, never thrown into the publisher. */
  subscribe<T = unknown>(subject: string, handler: (msg: BusMessage<T>) => void): Promise<Unsubscribe>;
  close(): Promise<void>;
}

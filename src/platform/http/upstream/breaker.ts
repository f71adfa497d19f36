/**
 * One circuit breaker (opossum) per upstream instance. An attempt counts as a failure only when
 * the instance misbehaved: no answer, or a 5xx. A 4xx is the caller's problem and keeps the
 * circuit closed, whatever the typed client made of it.
 */
import CircuitBreaker from 'opossum';

export type BreakerState = 'closed' | 'half_open' | 'open';

export interface BreakerOptions {
  name: string;
  errorPercent: number;
  volumeThreshold: number;
  resetMs: number;
}

const CLIENT_ERROR = Symbol('client error');

/** Marks an error as the caller's (a 4xx answer): it passes through the breaker uncounted. */
export function asClientError(err: unknown): unknown {
  if (err !== null && typeof err === 'object') (err as Record<symbol, boolean>)[CLIENT_ERROR] = true;
  return err;
}

export interface Breaker {
  fire<T>(attempt: () => Promise<T>): Promise<T>;
  state(): BreakerState;
  /** calls are refused without being sent */
  isOpen(): boolean;
  on(event: 'open' | 'halfOpen' | 'close', listener: () => void): void;
  shutdown(): void;
}

export function createBreaker(options: BreakerOptions): Breaker {
  const breaker = new CircuitBreaker(async (attempt: () => Promise<unknown>) => attempt(), {
    name: options.name,
    // the HTTP layer has its own timeouts, which also abort the request; opossum's would not
    timeout: false,
    errorThresholdPercentage: options.errorPercent,
    volumeThreshold: options.volumeThreshold,
    resetTimeout: options.resetMs,
    rollingCountTimeout: 10_000,
    rollingCountBuckets: 10,
    errorFilter: (err: unknown) => (err as Record<symbol, boolean> | null)?.[CLIENT_ERROR] === true,
  });
  return {
    fire: <T>(attempt: () => Promise<T>) => breaker.fire(attempt) as Promise<T>,
    state: () => (breaker.opened ? 'open' : breaker.halfOpen ? 'half_open' : 'closed'),
    isOpen: () => breaker.opened,
    on: (event, listener) => {
      if (event === 'open') breaker.on('open', listener);
      else if (event === 'halfOpen') breaker.on('halfOpen', listener);
      else breaker.on('close', listener);
    },
    shutdown: () => breaker.shutdown(),
  };
}

export const isBreakerOpenError = (err: unknown): boolean =>
  (err as { code?: unknown } | null)?.code === 'EOPENBREAKER';

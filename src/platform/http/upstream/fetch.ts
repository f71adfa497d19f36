/**
 * A fetch over a balancer (upstream.ts), for a service's typed client (each client.ts takes a
 * `fetch`) in a process that is not the gateway: `--role market-data`, `reporting` and `fix` reach
 * orders and users this way, over every configured instance, with the gateway's balancing: round-
 * robin, health checks, breakers, retries, and the orders shard's leader found by its role.
 *
 * The client is built with BALANCED_BASE_URL: the path and query of each request go to the
 * instance the balancer picks (under that instance's own base path); that origin is never dialled.
 *
 * What is sent again is the balancer's rule: any request goes on to another instance when nothing
 * reached the first (connection refused, breaker open) or when the first answered that it does not
 * lead (it executed nothing); one that may have reached an instance (connection reset, timeout,
 * 5xx) is resent only when `retry` says so: by default `resendable` (GET, HEAD, a POST with an
 * Idempotency-Key), as the gateway's proxy decides. A 5xx that is not resent (or still a 5xx at the
 * last attempt) is returned as the answer; no instance to try throws UpstreamUnavailable, which the
 * typed clients report as the service being unreachable.
 *
 * Timeouts are the balancer's (`upstreamTimeoutMs` per attempt, `leaderWaitMs` while no instance
 * leads); the caller's `signal` is not followed, as with the gateway's per-instance fetch (http.ts).
 */
import { randomUUID } from 'node:crypto';
import { headerRecord, type RawRequest, toResponse } from './http.ts';
import { resendable, type Upstream } from './upstream.ts';

/** The base URL to build a typed client with, over `balancedFetch`. */
export const BALANCED_BASE_URL = 'http://balanced.invalid';

export interface BalancedFetchOptions {
  /** may this request be sent again after an unknown outcome? (default `resendable`) */
  retry?: (request: RawRequest) => boolean;
}

export function balancedFetch(upstream: Upstream, options: BalancedFetchOptions = {}): typeof fetch {
  const retry = options.retry ?? resendable;
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const target = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (init.body !== undefined && init.body !== null && typeof init.body !== 'string')
      throw new TypeError('balancedFetch: only a string body can be sent (and sent again)');
    const headers = headerRecord(init.headers);
    const request: RawRequest = {
      method: init.method ?? 'GET',
      path: target.pathname + target.search,
      headers,
      ...(typeof init.body === 'string' && { body: init.body }),
    };
    const requestId = headers['x-request-id'] ?? randomUUID();
    return toResponse(await upstream.send({ requestId, retry: retry(request) }, request));
  }) as typeof fetch;
}

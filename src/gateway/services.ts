/**
 * The services behind the gateway, by URL: each typed client (the services' client.ts) is built
 * per attempt over the instance the balancer chose, so retries, failover and circuit breaking
 * happen beneath the client's typed calls.
 *
 * In the all-in-one process the gateway is handed the services' in-process clients instead (the
 * same interface, the handlers themselves): no loopback HTTP hop, no JSON round trip, and no
 * breaker or retry, since there is no network to fail. The raw proxies (proxy.ts,
 * service-proxy.ts) still go through the loopback server.
 */

import type { Upstream } from '../platform/http/upstream/upstream.ts';
import { httpOrdersClient, type OrdersClient } from '../services/orders/client.ts';
import { createHttpUsersClient, type UsersClient } from '../services/users/client.ts';
import type { UsersCall } from './auth/credentials.ts';
import type { GatewayConfig } from './config.ts';

export type OrdersCall = <T>(
  requestId: string,
  retry: boolean,
  run: (orders: OrdersClient) => Promise<T>,
) => Promise<T>;

export function ordersCall(
  upstream: Upstream,
  config: GatewayConfig,
  internalToken: string,
  local?: OrdersClient,
): OrdersCall {
  if (local) return (_requestId, _retry, run) => run(local);
  return (requestId, retry, run) =>
    upstream.call({ requestId, retry }, (url, fetch) =>
      run(httpOrdersClient(url, { internalToken, fetch, timeoutMs: config.upstreamTimeoutMs })),
    );
}

/**
 * A sharded deployment: one balancer per orders shard (its leader found by role, as above), and
 * `combine` (the cli's shardedOrdersClient over the shard layout) routing each typed call to the
 * shard that owns it. Per call, each shard's client sends through its own balancer with the call's
 * request id and retry rule, so a shard's failover, breaker and retries are as without shards.
 */
export function shardedOrdersCall(
  shards: readonly Upstream[],
  config: GatewayConfig,
  internalToken: string,
  combine: (shards: readonly OrdersClient[]) => OrdersClient,
): OrdersCall {
  const build = (url: string, fetch: typeof globalThis.fetch) =>
    httpOrdersClient(url, { internalToken, fetch, timeoutMs: config.upstreamTimeoutMs });
  const methods = Object.keys(
    build('http://method-names.invalid', globalThis.fetch),
  ) as (keyof OrdersClient)[];
  return (requestId, retry, run) =>
    run(
      combine(
        shards.map(
          (upstream) =>
            Object.fromEntries(
              methods.map((method) => [
                method,
                (...args: unknown[]) =>
                  upstream.call({ requestId, retry }, (url, fetch) =>
                    (build(url, fetch)[method] as (...a: unknown[]) => Promise<unknown>)(...args),
                  ),
              ]),
            ) as unknown as OrdersClient,
        ),
      ),
    );
}

/** Every users-client call is a read or a verification: safe to send again. */
export function usersCall(
  upstream: Upstream,
  config: GatewayConfig,
  internalToken: string,
  local?: UsersClient,
): UsersCall {
  if (local) return (_requestId, run) => run(local);
  return (requestId, run) =>
    upstream.call({ requestId, retry: true }, (url, fetch) =>
      run(createHttpUsersClient({ baseUrl: url, internalToken, fetch, timeoutMs: config.upstreamTimeoutMs })),
    );
}

/**
 * bench:shards' workload: the order mix straight to each account's orders shard node
 * (POST /internal/orders-shard/accounts/:account/orders), the request naming the shard as its group
 * of instances (leader and standbys), so that the generator sends it to whichever leads.
 */
import { randomUUID } from 'node:crypto';
import { orderAt } from '../order-mix.ts';
import type { RequestFactory } from '../request.ts';

export interface ShardOrdersContext {
  /** headers every internal call carries (the internal token) */
  headers: Record<string, string>;
  accounts: string[];
  /** shards[k]: accounts[k]'s risk shard (riskShardOf) */
  shards: number[];
  symbols: string[];
  /** answer after the matching shard's verdict (?wait=true), not at the hold */
  wait?: boolean;
}

export function createRequests(context: unknown): RequestFactory {
  const { headers, accounts, shards, symbols, wait } = context as ShardOrdersContext;
  const query = wait === true ? '?wait=true' : '';
  const h = { ...headers, 'content-type': 'application/json' };
  // request numbers start again at every step: the prefix keeps client order ids unique
  const run = randomUUID().slice(0, 8);
  return (i) => {
    const o = orderAt(i, accounts.length, symbols.length);
    return {
      method: 'POST',
      path: `/internal/orders-shard/accounts/${encodeURIComponent(accounts[o.account]!)}/orders${query}`,
      headers: h,
      group: shards[o.account]!,
      // a client order id per request: an order cut mid-request is sent again, never placed twice
      idempotent: true,
      body: JSON.stringify({
        client_order_id: `${run}-${i}`,
        symbol: symbols[o.symbol],
        side: o.side,
        type: 'limit',
        time_in_force: o.tif,
        qty: o.qty,
        limit_price: o.priceCents,
      }),
    };
  };
}

/**
 * bench:shards' workload: the order mix straight to each account's orders shard node
 * (POST /internal/orders-shard/accounts/:account/orders), the request naming the shard as its group
 * of instances (leader and standbys), so that the generator sends it to whichever leads.
 */
import { orderAt } from '../order-mix.ts';
import type { RequestFactory } from '../request.ts';

export interface ShardOrdersContext {
  /** headers every internal call carries (the internal token) */
  headers: Record<string, string>;
  accounts: string[];
  /** shards[k]: accounts[k]'s risk shard (riskShardOf) */
  shards: number[];
  symbols: string[];
}

export function createRequests(context: unknown): RequestFactory {
  const { headers, accounts, shards, symbols } = context as ShardOrdersContext;
  const h = { ...headers, 'content-type': 'application/json' };
  return (i) => {
    const o = orderAt(i, accounts.length, symbols.length);
    return {
      method: 'POST',
      path: `/internal/orders-shard/accounts/${encodeURIComponent(accounts[o.account]!)}/orders`,
      headers: h,
      group: shards[o.account]!,
      body: JSON.stringify({
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

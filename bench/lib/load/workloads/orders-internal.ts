/** bench:orders' workload: the order mix against the orders service's internal HTTP API. */
import { orderAt } from '../order-mix.ts';
import type { RequestFactory } from '../request.ts';

export interface OrdersInternalContext {
  /** headers every internal call carries (the internal token) */
  headers: Record<string, string>;
  accounts: string[];
  symbols: string[];
}

export function createRequests(context: unknown): RequestFactory {
  const { headers, accounts, symbols } = context as OrdersInternalContext;
  const h = { ...headers, 'content-type': 'application/json' };
  return (i) => {
    const o = orderAt(i, accounts.length, symbols.length);
    return {
      method: 'POST',
      path: `/internal/orders/accounts/${encodeURIComponent(accounts[o.account]!)}/orders`,
      headers: h,
      body: JSON.stringify({
        symbol: symbols[o.symbol],
        side: o.side,
        type: 'limit',
        tif: o.tif,
        qty: o.qty,
        price: o.priceCents,
      }),
    };
  };
}

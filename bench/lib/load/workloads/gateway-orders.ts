/** bench:gateway's order workload: the order mix through the public API, each account with its own token. */
import { dollars, orderAt } from '../order-mix.ts';
import type { RequestFactory } from '../request.ts';

export interface GatewayContext {
  /** one access token per account */
  tokens: string[];
  symbols: string[];
  /** when set, request i carries client_order_id `${clientOrderIdPrefix}${i}` (to find it afterwards) */
  clientOrderIdPrefix?: string;
}

export function createRequests(context: unknown): RequestFactory {
  const { tokens, symbols, clientOrderIdPrefix } = context as GatewayContext;
  const headers = tokens.map((t) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' }));
  return (i) => {
    const o = orderAt(i, tokens.length, symbols.length);
    return {
      method: 'POST',
      path: '/v2/orders',
      headers: headers[o.account]!,
      body: JSON.stringify({
        symbol: symbols[o.symbol],
        qty: String(o.qty),
        side: o.side,
        type: 'limit',
        time_in_force: o.tif,
        limit_price: dollars(o.priceCents),
        ...(clientOrderIdPrefix !== undefined && { client_order_id: `${clientOrderIdPrefix}${i}` }),
      }),
    };
  };
}

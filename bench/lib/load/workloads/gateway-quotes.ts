/** bench:gateway's read workload: one symbol's quote and book per request, from the gateway's cache. */
import { mix32 } from '../order-mix.ts';
import type { RequestFactory } from '../request.ts';
import type { GatewayContext } from './gateway-orders.ts';

export function createRequests(context: unknown): RequestFactory {
  const { tokens, symbols } = context as GatewayContext;
  const headers = tokens.map((t) => ({ authorization: `Bearer ${t}` }));
  return (i) => {
    const h = mix32(i);
    return {
      method: 'GET',
      path: `/market-data?symbols=${symbols[h % symbols.length]}`,
      headers: headers[(h >>> 8) % tokens.length]!,
    };
  };
}

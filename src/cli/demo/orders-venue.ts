import { OrdersApiError, type OrdersClient } from '../../services/orders/client.ts';
import type { DemoVenue, OpenQuote } from './market-maker.ts';

/** The demo market's view of the exchange: the orders service's typed client, nothing more. */
export function ordersVenue(orders: OrdersClient): DemoVenue {
  return {
    async ensureInstrument(spec) {
      const known = await orders.instruments();
      if (!known.some((i) => i.symbol === spec.symbol)) await orders.addInstrument(spec);
    },
    async holdings(account, symbol) {
      const [balance, positions] = await Promise.all([orders.balance(account), orders.positions(account)]);
      return { cash: balance.cash, shares: positions.find((p) => p.symbol === symbol)?.qty ?? 0 };
    },
    async deposit(account, cents) {
      await orders.deposit(account, { amount: cents });
    },
    async transferShares(account, symbol, qty, cost) {
      await orders.transferShares(account, { symbol, qty, cost });
    },
    async limit(o) {
      const { order } = await orders.submitOrder(o.account, {
        symbol: o.symbol,
        side: o.side,
        type: 'limit',
        tif: o.tif,
        qty: o.qty,
        price: o.price,
      });
      return order.status === 'rejected' ? null : order.id;
    },
    async move(account, id, price, totalQty) {
      try {
        await orders.replaceOrder(account, id, { price, qty: totalQty });
        return true;
      } catch (err) {
        if (err instanceof OrdersApiError && err.problem.status < 500) return false;
        throw err;
      }
    },
    async cancel(account, id) {
      try {
        await orders.cancelOrder(account, id);
      } catch (err) {
        if (!(err instanceof OrdersApiError && err.problem.status < 500)) throw err;
      }
    },
    async openOrders(account, symbol) {
      const out: OpenQuote[] = [];
      let cursor: string | undefined;
      do {
        const page = await orders.listOrders(account, { status: 'open', symbol, limit: 500, cursor });
        for (const o of page.items) {
          out.push({
            id: o.id,
            side: o.side,
            price: o.price,
            leaves: o.qty - o.filledQty,
            filledQty: o.filledQty,
          });
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return out;
    },
  };
}

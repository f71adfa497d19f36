/** A seeded order flow for the retention and backup tests. */
import type { OrdersClient } from '../../../src/services/orders/client.ts';
import { MID, prng, SYMBOL } from './service.ts';

export const TRADERS = ['r0', 'r1', 'r2', 'r3'];

/** Seeded resting and crossing limit orders, some cancelled, in concurrent waves. */
export async function trade(client: OrdersClient, seed: number, waves: number): Promise<void> {
  const rnd = prng(seed);
  for (let w = 0; w < waves; w++) {
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const account = TRADERS[Math.floor(rnd() * TRADERS.length)]!;
        const side = rnd() < 0.5 ? ('buy' as const) : ('sell' as const);
        const crossing = rnd() < 0.4;
        const away = 1 + Math.floor(rnd() * 10);
        const price = side === 'buy' ? MID + (crossing ? 3 : -away) : MID - (crossing ? 3 : -away);
        const { order } = await client.submitOrder(account, {
          symbol: SYMBOL,
          side,
          type: 'limit',
          tif: 'gtc',
          qty: 1 + Math.floor(rnd() * 40),
          price,
          clientOrderId: `s${seed}-${w}-${i}`,
        });
        if (rnd() < 0.2 && (order.status === 'new' || order.status === 'partially_filled'))
          // a concurrent wave may have filled it meanwhile: "order not open" is fine
          await client.cancelOrder(account, order.id).catch(() => {});
      }),
    );
  }
}

/**
 * Idempotency keys for a window: within it a client order id or Idempotency-Key returns the
 * original outcome, also once memory has dropped it (looked up in the tables); after it the key
 * places a new order. And a restarted service still knows the keys of the window.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { createMemoryBus } from '../../src/platform/bus/memory.ts';
import { manualClock } from '../../src/platform/clock.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { createOrdersService, type OrdersService } from '../../src/services/orders/index.ts';
import { forEachDb } from '../support/db.ts';
import { fund, listAcme, logger, MID, SYMBOL } from './support/service.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const HOUR = 3_600_000;
const order = (clientOrderId: string, qty = 1) => ({
  symbol: SYMBOL,
  side: 'buy' as const,
  type: 'limit' as const,
  tif: 'gtc' as const,
  qty,
  price: MID - 10,
  clientOrderId,
});

forEachDb('orders idempotency window', (makeDb) => {
  const services: OrdersService[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
  });
  const clock = manualClock(1_800_000_000_000);
  const start = async (db: Db, idempotencyMaxKeys = 1000) => {
    const s = await createOrdersService({
      db,
      bus: createMemoryBus({ logger }),
      clock,
      logger,
      config: { idempotencyWindowMs: 24 * HOUR, idempotencyMaxKeys },
    });
    services.push(s);
    return s;
  };

  it('answers a key with the original within the window, places a new order after it', async () => {
    const db = await makeDb();
    const service = await start(db);
    await listAcme(service.client);
    await fund(service.client, ['alice']);
    const first = await service.client.submitOrder('alice', order('same'));
    clock.advance(23 * HOUR);
    const again = await service.client.submitOrder('alice', order('same'));
    expect(again).toMatchObject({ replayed: true, order: { id: first.order.id } });
    clock.advance(2 * HOUR);
    await service.client.exchangeStatus(); // projected, so the key may leave memory
    await service.client.deposit('alice', { amount: 1 }); // a commit, which prunes
    const later = await service.client.submitOrder('alice', order('same'));
    expect(later.replayed).toBe(false);
    expect(later.order.id).toBeGreaterThan(first.order.id);
    expect((await service.client.getOrderByClientId('alice', 'same')).id).toBe(later.order.id);
  });

  it('finds a key memory dropped early (beyond its maximum) in the tables', async () => {
    const db = await makeDb();
    const service = await start(db, 3);
    await listAcme(service.client);
    await fund(service.client, ['bob']);
    const first = await service.client.submitOrder('bob', order('k0'));
    const cash = await service.client.deposit('bob', { amount: 5, idempotencyKey: 'dep-1' });
    for (let i = 1; i <= 6; i++) await service.client.submitOrder('bob', order(`k${i}`));
    // keys leave memory only once projected: wait for the tables, then commit once more (prunes)
    await service.client.exchangeStatus();
    await service.client.deposit('bob', { amount: 1 });
    expect(service.sequencer.idempotencyCoversSince()).toBeGreaterThan(clock.now() - 24 * HOUR);
    const again = await service.client.submitOrder('bob', order('k0'));
    expect(again).toMatchObject({ replayed: true, order: { id: first.order.id } });
    const cashAgain = await service.client.deposit('bob', { amount: 5, idempotencyKey: 'dep-1' });
    expect(cashAgain).toMatchObject({ replayed: true, seq: cash.seq });
    // a different request under a known key is refused, as before
    await expect(service.client.submitOrder('bob', order('k0', 2))).rejects.toMatchObject({
      problem: { status: 409 },
    });
  });

  it('a restarted service still knows the keys of the window', async () => {
    const db = await makeDb();
    const first = await start(db);
    await listAcme(first.client);
    await fund(first.client, ['carol']);
    const placed = await first.client.submitOrder('carol', order('before-restart'));
    await first.close();
    services.length = 0;
    clock.advance(HOUR);
    const second = await start(db);
    const again = await second.client.submitOrder('carol', order('before-restart'));
    expect(again).toMatchObject({ replayed: true, order: { id: placed.order.id } });
  });
});

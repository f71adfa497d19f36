/**
 * The projector's gather window (projector.ts): off the acknowledgement path it waits for more
 * commands before writing the derived tables, but never while a read waits for them, and `close()`
 * drains it.
 */
import { afterEach, expect, it, vi } from 'vitest';
import type { Db } from '../../src/platform/db/types.ts';
import type { OrdersService } from '../../src/services/orders/index.ts';
import { forEachDb } from '../support/db.ts';
import { fund, listAcme, MID, SYMBOL, startService } from './support/service.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

/** far longer than any test: a projection that waited for it would time the test out */
const FOREVER_MS = 3_600_000;

async function watermark(db: Db): Promise<number> {
  const { rows } = await db.query<{ last_seq: number }>('SELECT last_seq FROM exchange_state WHERE id = 1');
  return Number(rows[0]!.last_seq);
}

forEachDb('orders projector gather window', (makeDb) => {
  let service: OrdersService | null = null;
  afterEach(async () => {
    await service?.close();
    service = null;
  });

  const buy = (price: number) =>
    ({ symbol: SYMBOL, side: 'buy', type: 'limit', tif: 'gtc', qty: 1, price }) as const;

  it('a read of the tables does not wait for the gather window', async () => {
    service = await startService(await makeDb(), { projectGatherMs: FOREVER_MS });
    await listAcme(service.client);
    await fund(service.client, ['alice']);
    const { order } = await service.client.submitOrder('alice', buy(MID - 1));
    const page = await service.client.listOrders('alice');
    expect(page.items.map((o) => o.id)).toContain(order.id);
  });

  it('holds acknowledged commands for the next projection, and close() writes them', async () => {
    const db = await makeDb();
    service = await startService(db, { projectGatherMs: FOREVER_MS });
    await listAcme(service.client);
    await fund(service.client, ['alice']);
    await service.client.listOrders('alice'); // the set-up is projected
    const before = await watermark(db);
    for (let k = 1; k <= 3; k++) await service.client.submitOrder('alice', buy(MID - k));
    // acknowledged (journaled), not yet in the tables: nobody has asked for them
    expect(await watermark(db)).toBe(before);
    await service.close();
    service = null;
    const { rows } = await db.query<{ n: number }>(
      "SELECT count(*)::int8 AS n FROM orders WHERE account = 'alice'",
    );
    expect(Number(rows[0]!.n)).toBe(3);
  });
});

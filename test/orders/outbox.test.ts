/**
 * The journal is the outbox: events of commands that were committed but never confirmed sent
 * (the process died between commit and publish) are sent by the next start.
 */
import { expect, it, vi } from 'vitest';
import type { Bus } from '../../src/platform/bus/types.ts';
import type { ExecMessage } from '../../src/services/orders/events.ts';
import { forEachDb } from '../support/db.ts';
import { fund, listAcme, MID, SYMBOL, startService } from './support/service.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

/** A bus that accepts publishes and never confirms them, as if the process died first. */
function stuckBus(): Bus {
  return {
    kind: 'memory',
    publish: () => new Promise<void>(() => {}),
    subscribe: async () => async () => {},
    close: async () => {},
  };
}

function recordingBus(seen: { subject: string; data: unknown }[]): Bus {
  return {
    kind: 'memory',
    publish: async (subject, data) => {
      seen.push({ subject, data });
    },
    subscribe: async () => async () => {},
    close: async () => {},
  };
}

forEachDb('orders outbox', (makeDb) => {
  it('sends again on start the events of committed commands whose publishes never settled', async () => {
    const db = await makeDb();
    // the first life: everything commits, nothing is confirmed sent; it is then abandoned
    const first = await startService(db, {}, stuckBus());
    await listAcme(first.client);
    await fund(first.client, ['alice']);
    const placed = await first.client.submitOrder('alice', {
      symbol: SYMBOL,
      side: 'buy',
      type: 'limit',
      tif: 'gtc',
      qty: 5,
      price: MID - 3,
      clientOrderId: 'outbox-1',
    });
    await first.client.exchangeStatus(); // the projection (and its published_seq) is written
    const { rows } = await db.query<{ published_seq: number; last_seq: number }>(
      'SELECT published_seq, last_seq FROM exchange_state',
    );
    expect(rows[0]!.published_seq).toBeLessThan(rows[0]!.last_seq);

    const seen: { subject: string; data: unknown }[] = [];
    const second = await startService(db, {}, recordingBus(seen));
    const execs = seen.filter((m) => m.subject === 'orders.exec.alice').map((m) => m.data as ExecMessage);
    const accepted = execs.find((m) => m.kind === 'accepted' && m.order?.id === placed.order.id);
    expect(accepted).toMatchObject({ seq: expect.any(Number), order: { clientOrderId: 'outbox-1' } });
    // and the watermark moves on: the next start does not send them again
    await second.client.deposit('alice', { amount: 1 });
    await second.close();
    const after = await db.query<{ published_seq: number; last_seq: number }>(
      'SELECT published_seq, last_seq FROM exchange_state',
    );
    expect(after.rows[0]!.published_seq).toBe(after.rows[0]!.last_seq);
  });
});

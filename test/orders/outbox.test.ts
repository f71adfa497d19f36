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
    declareDurable: async () => {},
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
    declareDurable: async () => {},
    close: async () => {},
  };
}

/** A bus that refuses every publish while `down` is set (NATS unreachable), recording the rest. */
function outageBus(seen: { subject: string; data: unknown }[]): Bus & { down: boolean } {
  const bus = {
    kind: 'memory' as const,
    down: false,
    publish: async (subject: string, data: unknown) => {
      if (bus.down) throw new Error('bus unreachable');
      seen.push({ subject, data });
    },
    subscribe: async () => async () => {},
    declareDurable: async () => {},
    close: async () => {},
  };
  return bus;
}

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
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

  it('sends what the bus refused once it is back, and keeps the watermark below it until then', async () => {
    const db = await makeDb();
    const seen: { subject: string; data: unknown }[] = [];
    const bus = outageBus(seen);
    const service = await startService(db, {}, bus);
    await listAcme(service.client);
    await fund(service.client, ['bob']);
    bus.down = true;
    const placed = await service.client.submitOrder('bob', {
      symbol: SYMBOL,
      side: 'buy',
      type: 'limit',
      tif: 'gtc',
      qty: 3,
      price: MID - 4,
      clientOrderId: 'outage-1',
    });
    const acceptedOf = () =>
      seen
        .filter((m) => m.subject === 'orders.exec.bob')
        .map((m) => m.data as ExecMessage)
        .find((m) => m.kind === 'accepted' && m.order?.id === placed.order.id);
    // acknowledged (the database is the record), not sent, and the watermark has not passed it
    await service.client.exchangeStatus();
    expect(acceptedOf()).toBeUndefined();
    await eventually('the refused events to wait for a retry', () => service.outbox().retrying > 0);
    const { rows } = await db.query<{ seq: number }>(
      `SELECT max(seq)::int8 AS seq FROM journal WHERE command->>'type' = 'new_order'`,
    );
    const orderSeq = rows[0]!.seq;
    expect(service.outbox().publishedSeq).toBeLessThan(orderSeq);
    await new Promise((r) => setTimeout(r, 500)); // several retries, all refused
    expect(service.outbox().publishedSeq).toBeLessThan(orderSeq);
    expect(acceptedOf()).toBeUndefined();
    bus.down = false;
    await eventually('the accepted event after the outage', () => acceptedOf() !== undefined);
    expect(acceptedOf()).toMatchObject({ order: { clientOrderId: 'outage-1' } });
    await eventually('the retry queue to empty', () => service.outbox().retrying === 0);
    expect(service.outbox().publishedSeq).toBeGreaterThanOrEqual(orderSeq);
    await service.close();
    const after = await db.query<{ published_seq: number; last_seq: number }>(
      'SELECT published_seq, last_seq FROM exchange_state',
    );
    expect(after.rows[0]!.published_seq).toBe(after.rows[0]!.last_seq);
  });
});

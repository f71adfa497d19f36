/** Order updates from the bus → the inbox; on both databases and on both buses (memory, NATS). */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ExecMessage } from '../../src/services/orders/events.ts';
import type { Order } from '../../src/services/orders/model.ts';
import { forEachBus } from '../support/bus.ts';
import { forEachDb } from '../support/db.ts';
import {
  countRows,
  eventually,
  expectProblem,
  type Harness,
  makeHarness,
  SETUP_MS,
  type TestUser,
} from './harness.ts';

let seq = 1000;

function order(account: string, o: Partial<Order> = {}): Order {
  return {
    id: seq,
    account,
    symbol: 'AAPL',
    side: 'buy',
    orderType: 'limit',
    tif: 'day',
    qty: 10,
    filledQty: 10,
    price: 18725,
    stopPrice: 0,
    postOnly: false,
    status: 'filled',
    triggered: false,
    filledNotional: 187250,
    fees: 0,
    createdAt: 1,
    updatedAt: 2,
    clientOrderId: 'my-order-1',
    rejectReason: null,
    cancelReason: null,
    ...o,
  };
}

function fill(account: string): ExecMessage {
  const s = ++seq;
  return {
    seq: s,
    ts: Date.now(),
    account,
    kind: 'fill',
    order: order(account, { id: s }),
    fill: { tradeId: s, price: 18725, qty: 10, fee: 3, liquidity: 'taker' },
  };
}

forEachDb('users: notifications', (makeDb) => {
  forEachBus('from order events', (makeBus) => {
    let h: Harness;
    let h2: Harness;
    let a: TestUser;
    let b: TestUser;

    beforeAll(async () => {
      const db = await makeDb();
      const bus = await makeBus();
      h = await makeHarness(db, { bus });
      // a second instance on the same database and bus: the two share the order events (durable consumer)
      h2 = await makeHarness(db, { bus, clock: h.clock });
      a = await h.user();
      b = await h.user();
    }, SETUP_MS);
    afterAll(async () => {
      await h2?.close();
      await h?.close();
    });

    const publish = (m: ExecMessage) => h.bus.publish(`orders.exec.${m.account}`, m);
    const inbox = async (u: TestUser, query = '') => {
      const res = await h.req({ method: 'GET', url: `/notifications${query}`, headers: u.auth });
      expect(res.statusCode).toBe(200);
      return res.json() as {
        notifications: {
          id: string;
          kind: string;
          title: string;
          data: Record<string, unknown>;
          read_at: string | null;
        }[];
        next_cursor: string | null;
      };
    };
    const waitFor = (u: TestUser, n: number) =>
      eventually(async () => {
        const box = await inbox(u, '?limit=200');
        return box.notifications.length >= n ? box.notifications : undefined;
      });

    it('a fill becomes one notification, even with two instances and a redelivery', async () => {
      const before = (await inbox(a, '?limit=200')).notifications.length;
      const m = fill(a.id);
      await publish(m);
      await publish(m);
      const box = await waitFor(a, before + 1);
      await Promise.all([h.svc.idle(), h2.svc.idle()]);
      expect((await inbox(a, '?limit=200')).notifications.length).toBe(before + 1);
      expect(box[0]).toMatchObject({
        kind: 'order_fill',
        title: 'Bought 10 AAPL at 187.25',
        read_at: null,
        data: {
          order_id: String(m.order!.id),
          client_order_id: 'my-order-1',
          symbol: 'AAPL',
          side: 'buy',
          fill_qty: '10',
          fill_price: '187.25',
          fee: '0.03',
          status: 'filled',
        },
      });
    });

    it('cancels, expirations and rejections; other updates make none', async () => {
      const s = ++seq;
      const before = (await inbox(b, '?limit=200')).notifications.length;
      await publish({
        seq: s,
        ts: 1,
        account: b.id,
        kind: 'accepted',
        order: order(b.id, { id: s, status: 'new' }),
      });
      await publish({
        seq: s + 1,
        ts: 1,
        account: b.id,
        kind: 'canceled',
        order: order(b.id, { id: s, status: 'canceled', side: 'sell' }),
        cancelReason: 'user',
      });
      await publish({
        seq: s + 2,
        ts: 1,
        account: b.id,
        kind: 'expired',
        order: order(b.id, { id: s + 2, status: 'expired' }),
      });
      await publish({
        seq: s + 3,
        ts: 1,
        account: b.id,
        kind: 'rejected',
        order: order(b.id, { id: s + 3, status: 'rejected', rejectReason: 'insufficient_funds' }),
        command: 'new_order',
        reason: 'insufficient_funds',
      });
      await publish({
        seq: s + 4,
        ts: 1,
        account: b.id,
        kind: 'rejected',
        order: null,
        command: 'withdraw',
        reason: 'invalid_amount',
      });
      seq += 5;
      const box = (await waitFor(b, before + 4)).slice(0, 4);
      // two instances race to write: the inbox is in arrival order, not necessarily event order
      expect(box.map((n) => n.kind).sort()).toEqual([
        'order_canceled',
        'order_expired',
        'order_rejected',
        'order_rejected',
      ]);
      const titles = box.map((n) => n.title);
      expect(titles).toContain('Order for 10 AAPL rejected: insufficient funds');
      expect(titles).toContain('withdraw request rejected: invalid amount');
      expect(titles).toContain('Order for 10 AAPL expired');
      expect(box.find((n) => n.kind === 'order_canceled')!.data.reason).toBe('user');
    });

    it('ignores events for accounts that are not users, and forged subjects', async () => {
      const rows = await countRows(h.db, 'notifications');
      const stranger = randomUUID();
      await h.bus.publish(`orders.exec.${stranger}`, fill(stranger));
      await h.bus.publish('orders.exec.fees', { ...fill('fees') });
      // published on b's subject but claiming to be a's: dropped
      await h.bus.publish(`orders.exec.${b.id}`, fill(a.id));
      await h.bus.publish(`orders.exec.${a.id}`, { garbage: true });
      // a marker that must arrive after them (the bus is FIFO per subscription)
      const marker = fill(a.id);
      await publish(marker);
      await eventually(async () => {
        const box = await inbox(a, '?limit=1');
        return box.notifications[0]?.data.order_id === String(marker.order!.id) ? true : undefined;
      });
      await Promise.all([h.svc.idle(), h2.svc.idle()]);
      expect(await countRows(h.db, 'notifications')).toBe(rows + 1);
    });

    it("ownership: nobody sees or marks another user's notifications", async () => {
      await publish(fill(a.id));
      const mine = (await waitFor(a, 1))[0]!;
      const theirs = await inbox(b, '?limit=200');
      expect(theirs.notifications.map((n) => n.id)).not.toContain(mine.id);
      expectProblem(
        await h.req({ method: 'POST', url: `/notifications/${mine.id}/read`, headers: b.auth }),
        404,
      );
      expect((await inbox(a, '?limit=200')).notifications.find((n) => n.id === mine.id)?.read_at).toBeNull();
      expectProblem(await h.req({ method: 'GET', url: '/notifications' }), 401);
    });

    it('mark read, unread filter, read-all, newest-first pages', async () => {
      const c = await h.user();
      for (let i = 0; i < 3; i++) await publish(fill(c.id));
      const all = await waitFor(c, 3);
      const ids = all.map((n) => n.id);
      expect(
        (await h.req({ method: 'POST', url: `/notifications/${ids[0]}/read`, headers: c.auth })).statusCode,
      ).toBe(204);
      const unread = await inbox(c, '?unread=true');
      expect(unread.notifications.map((n) => n.id)).toEqual(ids.slice(1));
      const p1 = await inbox(c, '?limit=2');
      expect(p1.notifications.map((n) => n.id)).toEqual(ids.slice(0, 2));
      const p2 = await inbox(c, `?limit=2&cursor=${p1.next_cursor}`);
      expect(p2.notifications.map((n) => n.id)).toEqual(ids.slice(2));
      expect(p2.next_cursor).toBeNull();
      expect(
        (await h.req({ method: 'POST', url: '/notifications/read-all', headers: c.auth })).statusCode,
      ).toBe(204);
      expect((await inbox(c, '?unread=true')).notifications).toEqual([]);
      expectProblem(
        await h.req({ method: 'GET', url: '/notifications?unread=maybe', headers: c.auth }),
        400,
        'unread',
      );
      expectProblem(
        await h.req({ method: 'POST', url: '/notifications/nope/read', headers: c.auth }),
        400,
        'id',
      );
    });
  });
});

/**
 * Two users instances, each with its own NATS connection to one stream (two processes of a
 * cluster), on one PostgreSQL: every order event is handled by ONE of them (the shared durable
 * consumer), and acknowledged only once its notification is written.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bus, BusMessage, SubscribeOptions } from '../../src/platform/bus/types.ts';
import type { Db } from '../../src/platform/db/types.ts';
import type { ExecMessage } from '../../src/services/orders/events.ts';
import { makeNatsBuses } from '../support/bus.ts';
import { makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWith } from '../support/services.ts';
import { countRows, eventually, type Harness, makeHarness, SETUP_MS, type TestUser } from './harness.ts';

const EVENTS = 40;

/** The bus as it is, except that the handlers of `orders.exec.*` report each event they finish. */
function counting(bus: Bus, onHandled: (msg: ExecMessage, settled: Promise<unknown>) => void): Bus {
  return {
    kind: bus.kind,
    publish: (subject, data) => bus.publish(subject, data),
    close: () => bus.close(),
    declareDurable: (name, pattern, options) => bus.declareDurable(name, pattern, options),
    subscribe: <T>(pattern: string, handler: (msg: BusMessage<T>) => unknown, options?: SubscribeOptions) =>
      bus.subscribe<T>(
        pattern,
        pattern === 'orders.exec.*'
          ? (msg) => {
              const settled = Promise.resolve(handler(msg));
              onHandled(msg.data as ExecMessage, settled);
              return settled;
            }
          : handler,
        options,
      ),
  };
}

describeWith(
  ['postgres', 'nats'],
  'users: order events on a cluster of two instances [postgres] [nats]',
  () => {
    const makeDb = scoped(makePostgresDb);
    const makeBuses = scoped(makeNatsBuses);
    let db: Db;
    let buses: Bus[];
    const handled = [0, 0];
    /** events whose handler settled before their notification row existed */
    const ackedUnwritten: number[] = [];
    /** the checks of that, one per handled event */
    const checks: Promise<void>[] = [];
    let h1: Harness;
    let h2: Harness;
    let user: TestUser;

    const rowFor = async (m: ExecMessage) => {
      const { rows } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM notifications WHERE user_id = $1 AND dedupe_key LIKE $2',
        [m.account, `orders/${m.seq}/%`],
      );
      return rows[0]!.n;
    };

    beforeAll(async () => {
      db = await makeDb();
      buses = await makeBuses(3);
      const watch = (k: number) => (m: ExecMessage, settled: Promise<unknown>) => {
        handled[k]!++;
        checks.push(
          settled.then(async () => {
            if ((await rowFor(m)) !== 1) ackedUnwritten.push(m.seq);
          }),
        );
      };
      h1 = await makeHarness(db, { bus: counting(buses[0]!, watch(0)) });
      h2 = await makeHarness(db, { bus: counting(buses[1]!, watch(1)), clock: h1.clock });
      user = await h1.user();
    }, SETUP_MS);
    afterAll(async () => {
      await h2?.close();
      await h1?.close();
    });

    it('each event is handled once across the two instances, and acknowledged once written', async () => {
      const before = await countRows(db, 'notifications');
      // published from a third connection, as the orders service would
      for (let k = 0; k < EVENTS; k++) {
        const seq = 10_000 + k;
        const m: ExecMessage = {
          seq,
          ts: Date.now(),
          account: user.id,
          kind: 'canceled',
          order: {
            id: seq,
            account: user.id,
            symbol: 'AAPL',
            side: 'buy',
            orderType: 'limit',
            tif: 'day',
            qty: 10,
            filledQty: 0,
            price: 18725,
            stopPrice: 0,
            postOnly: false,
            status: 'canceled',
            triggered: false,
            filledNotional: 0,
            fees: 0,
            createdAt: 1,
            updatedAt: 2,
            clientOrderId: randomUUID(),
            rejectReason: null,
            cancelReason: 'user',
          },
          cancelReason: 'user',
        };
        await buses[2]!.publish(`orders.exec.${user.id}`, m);
      }
      await eventually(async () =>
        (await countRows(db, 'notifications')) >= before + EVENTS ? true : undefined,
      );
      await Promise.all([h1.svc.idle(), h2.svc.idle()]);
      // a shared durable consumer: one delivery per event in all (two live subscriptions would make 2 × EVENTS)
      expect(handled[0]! + handled[1]!).toBe(EVENTS);
      expect(await countRows(db, 'notifications')).toBe(before + EVENTS);
      await Promise.all(checks);
      expect(checks).toHaveLength(EVENTS);
      expect(ackedUnwritten).toEqual([]);
    });
  },
);

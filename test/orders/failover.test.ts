/**
 * One writer per orders shard, on real PostgreSQL (issue 11; docs/design.md "Cluster"): two orders
 * nodes on one database, each with its own connection pool as two processes would have.
 *
 * - only the lock holder writes; the other is a standby that follows the journal and refuses
 *   commands (503, retriable);
 * - the leader's lock session ends (what PostgreSQL sees when its process dies): the standby takes
 *   over, every acknowledged order is there, the tables equal the journal replay (verifyOrders),
 *   cash and shares are conserved; the failover time is printed, not asserted;
 * - fencing: a takeover's epoch increment that the old leader has not noticed makes the journal
 *   refuse its next commit; it stops accepting, and writes nothing after.
 *
 * The same with `bourse start --role orders` child processes, kill -9 and SIGSTOP:
 * failover-process.test.ts.
 */
import { expect, it, onTestFinished, vi } from 'vitest';
import { createExchange } from '../../src/engine/index.ts';
import { createMemoryBus } from '../../src/platform/bus/memory.ts';
import { openPostgres } from '../../src/platform/db/postgres.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { OrdersApiError, type OrdersClient } from '../../src/services/orders/client.ts';
import { DEFAULT_EXCHANGE_CONFIG, verifyOrders } from '../../src/services/orders/index.ts';
import { ORDERS_LEADER_LOCK } from '../../src/services/orders/leadership.ts';
import { type OrdersNode, startOrdersNode } from '../../src/services/orders/standby.ts';
import { databaseUrl, makePostgresDb } from '../support/db.ts';
import { describeWithPostgres } from '../support/services.ts';
import { fund, listAcme, logger, MID, SYMBOL, testClock } from './support/service.ts';

vi.setConfig({ testTimeout: 120_000 });

const ACCOUNTS = ['fo-a', 'fo-b', 'fo-c', 'fo-d'];
const SHARES = 100_000;
const CASH = 10_000_000_000;

async function openNode(db: Db, followIntervalMs = 20): Promise<OrdersNode> {
  const node = await startOrdersNode(
    { db, bus: createMemoryBus({ logger }), clock: testClock(Date.now()), logger },
    { leaseMs: 2000, followIntervalMs },
  );
  onTestFinished(() => node.close().catch(() => {}));
  return node;
}

async function secondPool(db: Db): Promise<Db> {
  const other = await openPostgres({ connectionString: databaseUrl(db)!, max: 4 });
  onTestFinished(() => other.close().catch(() => {}));
  return other;
}

/** Orders that cross now and then; returns the acknowledged ones. */
async function trade(client: OrdersClient, n: number, tag: string): Promise<number[]> {
  const acked: number[] = [];
  for (let i = 0; i < n; i++) {
    const account = ACCOUNTS[i % ACCOUNTS.length]!;
    const side = i % 2 === 0 ? ('buy' as const) : ('sell' as const);
    const away = i % 5 === 0 ? 0 : 1 + (i % 7);
    const { order } = await client.submitOrder(account, {
      symbol: SYMBOL,
      side,
      type: 'limit',
      tif: 'gtc',
      qty: 1 + (i % 9),
      price: side === 'buy' ? MID - away : MID + away,
      clientOrderId: `${tag}-${i}`,
    });
    acked.push(order.id);
  }
  return acked;
}

async function rejected(p: Promise<unknown>): Promise<number> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OrdersApiError);
  return (err as OrdersApiError).status;
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function expectConserved(db: Db): Promise<void> {
  const cash = await db.query<{ total: number }>('SELECT sum(cash)::int8 AS total FROM accounts');
  expect(cash.rows[0]!.total).toBe(CASH * ACCOUNTS.length);
  const shares = await db.query<{ total: number }>(
    'SELECT sum(qty)::int8 AS total FROM positions WHERE symbol = $1',
    [SYMBOL],
  );
  expect(shares.rows[0]!.total).toBe(SHARES * ACCOUNTS.length);
}

const recoverOptions = { createExchange, exchangeConfig: DEFAULT_EXCHANGE_CONFIG };

describeWithPostgres('orders shard leadership (PostgreSQL advisory lock + epoch fencing)', () => {
  it('one node writes, the other follows as standby and takes over when the leader session dies', async () => {
    const { db } = await setup();
    const leaderNode = await openNode(db);
    expect(leaderNode.status()).toMatchObject({ role: 'leader', shard: 0, epoch: 1 });
    const leader = await leaderNode.leader();
    await listAcme(leader.client);
    await fund(leader.client, ACCOUNTS, SHARES);

    const standbyDb = await secondPool(db);
    const standby = await openNode(standbyDb);
    expect(standby.status()).toMatchObject({ role: 'standby', epoch: 0 });
    expect(standby.service()).toBeNull();
    // a standby takes no command (the gateway retries elsewhere)
    expect(
      await rejected(
        standby.client.submitOrder('fo-a', {
          symbol: SYMBOL,
          side: 'buy',
          type: 'limit',
          tif: 'gtc',
          qty: 1,
          price: MID,
        }),
      ),
    ).toBe(503);

    const acked = await trade(leader.client, 200, 'before');
    const committed = leader.sequencer.committedSeq();
    await until('the standby to follow', () => standby.status().seq === committed);

    // the leader "dies": its lock session ends, as when its process is killed
    const killedAt = performance.now();
    const { rowCount } = await db.query(
      `SELECT pg_terminate_backend(l.pid) FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = 0 AND l.granted
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [ORDERS_LEADER_LOCK],
    );
    expect(rowCount).toBe(1);
    const successor = await standby.leader();
    const more = await trade(successor.client, 1, 'after');
    const failoverMs = performance.now() - killedAt;
    console.log(
      `orders failover (lock session ended → first ack on the standby): ${failoverMs.toFixed(0)} ms`,
    );

    expect(standby.status()).toMatchObject({ role: 'leader', epoch: 2 });
    await until('the old leader to notice', () => leaderNode.status().role === 'lost');
    expect(leader.sequencer.status()).toBe('fenced');
    expect(
      await rejected(
        leader.client.submitOrder('fo-a', {
          symbol: SYMBOL,
          side: 'buy',
          type: 'limit',
          tif: 'gtc',
          qty: 1,
          price: MID,
        }),
      ),
    ).toBe(503);

    acked.push(...more, ...(await trade(successor.client, 50, 'after2')));
    await successor.sequencer.barrier();
    await until('the projection', () => successor.projectedSeq() === successor.sequencer.committedSeq());
    const { rows } = await standbyDb.query<{ id: number }>(
      'SELECT id FROM orders WHERE id = ANY($1::int8[])',
      [acked],
    );
    expect(rows.length).toBe(acked.length);
    const holder = await db.query<{ epoch: number; holder: string }>(
      'SELECT epoch, holder FROM orders_leader',
    );
    expect(holder.rows).toEqual([{ epoch: 2, holder: standby.status().holder }]);
    expect((await verifyOrders(standbyDb, recoverOptions)).differences).toEqual([]);
    await expectConserved(standbyDb);
  });

  it('fencing: after a takeover the old leader cannot commit, and stops accepting', async () => {
    const { db } = await setup();
    const node = await openNode(db);
    const old = await node.leader();
    await listAcme(old.client);
    await fund(old.client, ACCOUNTS, SHARES);
    await trade(old.client, 20, 'x');
    await until('the projection', () => old.projectedSeq() === old.sequencer.committedSeq());
    const journalBefore = await count(db, 'journal');
    const projectedBefore = old.projectedSeq();

    // a takeover's epoch increment (the new leader's statement), which the old one has not seen
    // (as after a pause past its lease)
    await db.query(
      "UPDATE orders_leader SET epoch = epoch + 1, holder = 'successor', since = now() WHERE shard = 0",
    );

    const status = await rejected(
      old.client.submitOrder('fo-a', {
        symbol: SYMBOL,
        side: 'buy',
        type: 'limit',
        tif: 'gtc',
        qty: 1,
        price: MID,
        clientOrderId: 'late',
      }),
    );
    expect(status).toBe(503);
    expect(old.sequencer.status()).toBe('fenced');
    expect(await count(db, 'journal')).toBe(journalBefore);
    // and it takes nothing more
    expect(await rejected(old.client.deposit('fo-a', { amount: 1 }))).toBe(503);
    expect(await count(db, 'journal')).toBe(journalBefore);
    expect(old.projectedSeq()).toBe(projectedBefore);
    const orders = await db.query("SELECT 1 FROM orders WHERE client_order_id = 'late'");
    expect(orders.rows).toEqual([]);
    expect((await verifyOrders(db, recoverOptions)).differences).toEqual([]);
  });
});

async function setup(): Promise<{ db: Db }> {
  const made = await makePostgresDb();
  onTestFinished(() => made.dispose());
  return { db: made.value };
}

async function count(db: Db, table: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${table}`);
  return rows[0]!.n;
}

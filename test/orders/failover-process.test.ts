/**
 * Orders failover with real processes (issue 11): `bourse start --role orders` three times on one
 * PostgreSQL database.
 *
 *   A leads, B is a standby (/readyz 503, /healthz says so) → kill -9 A under load → B takes over:
 *   every acknowledged order is there; the time from the kill to B's first acknowledgement is
 *   printed (not asserted). Then C stands by, B is paused with SIGSTOP past its lease → C takes
 *   over; SIGCONT B → B has been fenced: it reports so, refuses orders, and wrote nothing.
 *   Finally the tables equal the journal replay (verifyOrders) and cash and shares are conserved.
 */
import { expect, it, onTestFinished, vi } from 'vitest';
import { createExchange } from '../../src/engine/index.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { openPostgres } from '../../src/platform/db/postgres.ts';
import {
  httpOrdersClient,
  type Order,
  OrdersApiError,
  type OrdersClient,
} from '../../src/services/orders/client.ts';
import { DEFAULT_EXCHANGE_CONFIG, verifyOrders } from '../../src/services/orders/index.ts';
import { createTestDatabase } from '../support/postgres.ts';
import { describeWithPostgres, serviceUrl } from '../support/services.ts';
import {
  type Child,
  freePort,
  spawnService,
  TARGET,
  TEST_INTERNAL_TOKEN,
  waitReady,
} from './support/process.ts';
import { MID, SYMBOL } from './support/service.ts';

vi.setConfig({ testTimeout: 240_000 });

const ACCOUNTS = ['pf0', 'pf1', 'pf2', 'pf3'];
const CASH = 1_000_000_000;
const SHARES = 1_000_000;
const LEASE_MS = 1000;

interface Node {
  child: Child;
  port: number;
  client: OrdersClient;
}

async function status(
  port: number,
  path: '/readyz' | '/healthz',
): Promise<{ code: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers: { 'x-bourse-internal-token': TEST_INTERNAL_TOKEN },
    signal: AbortSignal.timeout(2000),
  });
  return { code: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Polls until `check` holds; on a timeout the error carries the watched node's state and output. */
async function until(
  what: string,
  check: () => Promise<boolean>,
  watch?: Child,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) {
      const state = watch
        ? `\nnode exit code ${watch.process.exitCode}, signal ${watch.process.signalCode}; its output:\n${watch.output.join('').slice(-4000)}`
        : '';
      throw new Error(`timed out waiting for ${what}${state}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One client's stream of orders; stops at the first failure (records acks only). */
async function stream(
  client: OrdersClient,
  account: string,
  tag: string,
  acks: Order[],
  stop: () => boolean,
) {
  for (let i = 0; !stop(); i++) {
    const side = i % 2 === 0 ? ('buy' as const) : ('sell' as const);
    const away = i % 4 === 0 ? 0 : 1 + (i % 6);
    try {
      const { order } = await client.submitOrder(account, {
        symbol: SYMBOL,
        side,
        type: 'limit',
        tif: 'gtc',
        qty: 1 + (i % 5),
        price: side === 'buy' ? MID - away : MID + away,
        clientOrderId: `${tag}-${account}-${i}`,
      });
      acks.push(order);
    } catch {
      return;
    }
  }
}

/** Submits until the node acknowledges (it answers 503 until it leads); the ack's time. */
async function firstAck(client: OrdersClient, tag: string): Promise<{ at: number; order: Order }> {
  for (let i = 0; ; i++) {
    try {
      const { order } = await client.submitOrder(ACCOUNTS[0]!, {
        symbol: SYMBOL,
        side: 'buy',
        type: 'limit',
        tif: 'gtc',
        qty: 1,
        price: MID - 50,
        clientOrderId: `${tag}-${i}`,
      });
      return { at: performance.now(), order };
    } catch (err) {
      if (!(err instanceof OrdersApiError) || err.status !== 503) throw err;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

describeWithPostgres('orders failover between processes', () => {
  it(`kill -9 of the leader: the standby takes over; SIGSTOP past the lease: fenced (${TARGET})`, async () => {
    const database = await createTestDatabase(serviceUrl('postgres'));
    const children: Child[] = [];
    onTestFinished(async () => {
      for (const c of children) {
        if (c.process.exitCode === null && c.process.signalCode === null) {
          c.process.kill('SIGCONT');
          c.process.kill('SIGKILL');
        }
      }
      await database.drop();
    });
    const db = await openPostgres({ connectionString: database.url, max: 2 });
    onTestFinished(() => db.close());
    await migrate(db); // once, before three processes start at the same time

    const startNode = async (): Promise<Node> => {
      const port = await freePort();
      const child = spawnService(database.url, port, { BOURSE_ORDERS_LEASE_MS: String(LEASE_MS) });
      children.push(child);
      await waitReady(child, port);
      const client = httpOrdersClient(`http://127.0.0.1:${port}`, { internalToken: TEST_INTERNAL_TOKEN });
      return { child, port, client };
    };

    const a = await startNode();
    expect((await status(a.port, '/readyz')).code).toBe(200);
    const b = await startNode();
    // alive, not ready: the standby takes no traffic
    const bReady = await status(b.port, '/readyz');
    expect(bReady.code).toBe(503);
    expect(bReady.body).toMatchObject({ status: 'standby', orders: { role: 'standby', shard: 0 } });
    expect((await status(a.port, '/healthz')).body).toMatchObject({ orders: { role: 'leader', epoch: 1 } });

    await a.client.addInstrument({
      symbol: SYMBOL,
      tickSize: 1,
      lotSize: 1,
      minQty: 1,
      maxQty: 100_000,
      priceBandBps: 0,
      collarBps: 1000,
      referencePrice: MID,
    });
    for (const account of ACCOUNTS) {
      await a.client.deposit(account, { amount: CASH, idempotencyKey: 'seed' });
      await a.client.transferShares(account, { symbol: SYMBOL, qty: SHARES, cost: SHARES * MID });
    }

    // --- kill -9 of the leader under load ----------------------------------------------------
    const acks: Order[] = [];
    let killed = false;
    const streams = ACCOUNTS.map((acc) => stream(a.client, acc, 'a', acks, () => killed));
    await until('acknowledgements', async () => acks.length >= 300);
    a.child.process.kill('SIGKILL');
    const killedAt = performance.now();
    killed = true;
    const first = await firstAck(b.client, 'b-first');
    const failoverMs = first.at - killedAt;
    await Promise.all(streams);
    console.log(
      `orders failover (kill -9 of the leader → first ack on the standby, processes): ${failoverMs.toFixed(0)} ms ` +
        `(lease ${LEASE_MS} ms; ${acks.length} orders acknowledged before the kill)`,
    );
    acks.push(first.order);
    expect((await status(b.port, '/readyz')).body).toMatchObject({ orders: { role: 'leader', epoch: 2 } });

    // --- SIGSTOP of the leader past its lease: fenced ----------------------------------------
    const c = await startNode();
    await until(
      'C to follow as standby',
      async () => (await status(c.port, '/readyz')).code === 503,
      c.child,
    );
    const bStreams = ACCOUNTS.map((acc) => stream(b.client, acc, 'b', acks, () => acks.length > 600));
    await Promise.all(bStreams);
    b.child.process.kill('SIGSTOP');
    const stoppedAt = performance.now();
    await until('C to take over', async () => (await status(c.port, '/readyz')).code === 200, c.child);
    const cFirst = await firstAck(c.client, 'c-first');
    acks.push(cFirst.order);
    console.log(
      `orders takeover after SIGSTOP of the leader (lease ${LEASE_MS} ms): ${(cFirst.at - stoppedAt).toFixed(0)} ms to the first ack`,
    );
    const journalAfterTakeover = await db.query<{ n: number }>('SELECT max(seq)::int8 AS n FROM journal');
    b.child.process.kill('SIGCONT');
    // B finds its session ended: it reports itself fenced (liveness fails, so it gets restarted)
    await until(
      'B to report itself fenced',
      async () => (await status(b.port, '/healthz')).code === 503,
      b.child,
    );
    expect((await status(b.port, '/healthz')).body).toMatchObject({
      status: 'fenced',
      orders: { role: 'lost' },
    });
    const refused = await b.client
      .submitOrder(ACCOUNTS[1]!, {
        symbol: SYMBOL,
        side: 'sell',
        type: 'limit',
        tif: 'gtc',
        qty: 1,
        price: MID + 60,
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(refused).toBeInstanceOf(OrdersApiError);
    expect((refused as OrdersApiError).status).toBe(503);
    // nothing of B's after C's takeover: only C writes (one more ack of C's to be sure it still does)
    const cLast = await firstAck(c.client, 'c-last');
    acks.push(cLast.order);
    const { rows: leaders } = await db.query<{ epoch: number }>('SELECT epoch FROM orders_leader');
    expect(leaders).toEqual([{ epoch: 3 }]);
    const { rows: tail } = await db.query<{ n: number }>(
      'SELECT count(*)::int8 AS n FROM journal WHERE seq > $1',
      [journalAfterTakeover.rows[0]!.n],
    );
    expect(tail[0]!.n).toBe(1); // c-last only

    // --- nothing acknowledged is lost; tables = replay; conservation -------------------------
    await c.client.getOrder(ACCOUNTS[0]!, cLast.order.id); // reads wait for the projection
    const ids = acks.map((o) => o.id);
    const { rows } = await db.query<{ id: number }>('SELECT id FROM orders WHERE id = ANY($1::int8[])', [
      ids,
    ]);
    expect(rows.length).toBe(new Set(ids).size);
    const verification = await verifyOrders(db, { createExchange, exchangeConfig: DEFAULT_EXCHANGE_CONFIG });
    expect(verification.differences).toEqual([]);
    const cash = await db.query<{ total: number }>('SELECT sum(cash)::int8 AS total FROM accounts');
    expect(cash.rows[0]!.total).toBe(CASH * ACCOUNTS.length);
    const shares = await db.query<{ total: number }>('SELECT sum(qty)::int8 AS total FROM positions');
    expect(shares.rows[0]!.total).toBe(SHARES * ACCOUNTS.length);
  });
});

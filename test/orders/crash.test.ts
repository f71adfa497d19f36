/**
 * THE crash test, on real PostgreSQL: the orders service runs as a child process, several
 * clients stream orders at it over HTTP recording every acknowledgement, the process is killed
 * with SIGKILL mid-stream, restarted on the same database, and then:
 *   1. every acknowledged order (and its fills, as trades) is in the database;
 *   2. nothing half-exists: orders rows and journal new_order entries match one to one, every
 *      trade belongs to a journaled command, the journal has no gaps and ends at last_seq;
 *   3. the recovered state equals a fresh replay of the journal (tables and the live service);
 *   4. requests that were in flight at the kill can be retried safely by client order id.
 *
 * The child is `bourse start --role orders` (the real CLI); BOURSE_CRASH_TARGET=fixture uses
 * test/orders/fixtures/orders-server.ts instead. Without PostgreSQL this fails under CI=true.
 */
import { expect, it, onTestFinished, vi } from 'vitest';
import { createExchange } from '../../src/engine/index.ts';
import { openPostgres } from '../../src/platform/db/postgres.ts';
import type { Db } from '../../src/platform/db/types.ts';
import {
  httpOrdersClient,
  type NewOrderRequest,
  type Order,
  OrdersApiError,
  type OrdersClient,
} from '../../src/services/orders/client.ts';
import {
  compareDerivedTables,
  DEFAULT_EXCHANGE_CONFIG,
  replayJournal,
} from '../../src/services/orders/index.ts';
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
import { MID, prng, SYMBOL } from './support/service.ts';

// two process starts and a few thousand HTTP calls take a while on a busy 2-core machine
vi.setConfig({ testTimeout: 240_000 });

const CLIENTS = 8;
const ACCOUNTS = Array.from({ length: CLIENTS }, (_, i) => `crash${i}`);
/** acknowledgements to collect before the kill */
const ACKS_BEFORE_KILL = 400;

interface Ack {
  account: string;
  request: NewOrderRequest;
  order: Order;
}

interface Stream {
  acks: Ack[];
  canceled: Order[];
  /** sent, no answer before the kill: either committed or not, never half */
  inDoubt: { account: string; request: NewOrderRequest }[];
  answeredRejections: number;
}

/** One client: orders (some crossing), some cancels, until the service stops answering. */
async function streamOrders(client: OrdersClient, account: string, seed: number, out: Stream): Promise<void> {
  const rnd = prng(seed);
  const resting: number[] = [];
  for (let i = 0; ; i++) {
    if (rnd() < 0.2 && resting.length > 0) {
      const id = resting.splice(Math.floor(rnd() * resting.length), 1)[0]!;
      try {
        out.canceled.push(await client.cancelOrder(account, id));
      } catch (err) {
        if (!(err instanceof OrdersApiError) || err.status >= 500) return;
        out.answeredRejections++;
      }
      continue;
    }
    const side = rnd() < 0.5 ? ('buy' as const) : ('sell' as const);
    const crossing = rnd() < 0.2;
    const away = crossing ? -2 : 1 + Math.floor(rnd() * 15);
    const request: NewOrderRequest = {
      symbol: SYMBOL,
      side,
      type: 'limit',
      tif: crossing ? 'ioc' : 'gtc',
      qty: 1 + Math.floor(rnd() * 20),
      price: side === 'buy' ? MID - away : MID + away,
      clientOrderId: `${account}-${i}`,
    };
    try {
      const { order } = await client.submitOrder(account, request);
      out.acks.push({ account, request, order });
      if (order.status === 'new' || order.status === 'partially_filled') resting.push(order.id);
    } catch (err) {
      if (err instanceof OrdersApiError && err.status < 500) {
        out.answeredRejections++;
        continue;
      }
      out.inDoubt.push({ account, request });
      return;
    }
  }
}

async function one<T>(db: Db, sql: string, params: unknown[] = []): Promise<T> {
  const { rows } = await db.query<Record<string, T>>(sql, params);
  return Object.values(rows[0]!)[0] as T;
}

describeWithPostgres('orders service survives SIGKILL', () => {
  it(`acknowledged work survives, unacknowledged work never half-exists, state = replay (${TARGET})`, async () => {
    const database = await createTestDatabase(serviceUrl('postgres'));
    const children: Child[] = [];
    onTestFinished(async () => {
      for (const c of children)
        if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
      await database.drop();
    });

    // --- first life -------------------------------------------------------------------------
    const port = await freePort();
    const first = spawnService(database.url, port);
    children.push(first);
    await waitReady(first, port);
    const client = httpOrdersClient(`http://127.0.0.1:${port}`, { internalToken: TEST_INTERNAL_TOKEN });
    await client.addInstrument({
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
      await client.deposit(account, { amount: 1_000_000_000, idempotencyKey: 'seed' });
      await client.transferShares(account, { symbol: SYMBOL, qty: 1_000_000, cost: 1_000_000 * MID });
    }

    const stream: Stream = { acks: [], canceled: [], inDoubt: [], answeredRejections: 0 };
    const streams = ACCOUNTS.map((account, i) => streamOrders(client, account, 1000 + i, stream));
    while (stream.acks.length < ACKS_BEFORE_KILL) {
      if (first.process.exitCode !== null)
        throw new Error(`service died by itself:\n${first.output.join('')}`);
      await new Promise((r) => setImmediate(r));
    }
    first.process.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    await Promise.all(streams);
    expect(stream.acks.length).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);

    // --- second life --------------------------------------------------------------------------
    const port2 = await freePort();
    const second = spawnService(database.url, port2);
    children.push(second);
    // it recovers by replay and verifies its tables before it answers /healthz
    await waitReady(second, port2);
    const client2 = httpOrdersClient(`http://127.0.0.1:${port2}`, { internalToken: TEST_INTERNAL_TOKEN });

    const db = await openPostgres({ connectionString: database.url, max: 2 });
    onTestFinished(() => db.close());

    // 1. every acknowledged order, cancel and fill is there
    for (const { account, request, order } of stream.acks) {
      const { rows } = await db.query<{
        account: string;
        client_order_id: string;
        filled_qty: number;
        qty: number;
      }>('SELECT account, client_order_id, filled_qty, qty FROM orders WHERE id = $1', [order.id]);
      expect(rows[0], `acked order ${order.id}`).toMatchObject({
        account,
        client_order_id: request.clientOrderId,
      });
      // fills only grow after an ack (a resting order may fill later)
      expect(rows[0]!.filled_qty).toBeGreaterThanOrEqual(order.filledQty);
      if (order.filledQty > 0) {
        const traded = await one<number>(
          db,
          'SELECT coalesce(sum(qty), 0)::int8 FROM trades WHERE buy_order_id = $1 OR sell_order_id = $1',
          [order.id],
        );
        expect(traded).toBeGreaterThanOrEqual(order.filledQty);
      }
    }
    for (const order of stream.canceled) {
      expect(await one<string>(db, 'SELECT status FROM orders WHERE id = $1', [order.id])).toBe('canceled');
    }

    // 2. nothing half-exists
    const lastSeq = await one<number>(db, 'SELECT last_seq FROM exchange_state WHERE id = 1');
    expect(await one<number>(db, 'SELECT max(seq) FROM journal')).toBe(lastSeq);
    expect(await one<number>(db, 'SELECT count(*)::int8 FROM journal')).toBe(lastSeq);
    expect(
      await one<number>(
        db,
        `SELECT count(*)::int8 FROM orders o WHERE NOT EXISTS (
           SELECT 1 FROM journal j WHERE j.seq = o.created_seq
              AND j.command->>'type' = 'new_order' AND (j.command->>'id')::int8 = o.id)`,
      ),
    ).toBe(0);
    expect(
      await one<number>(
        db,
        `SELECT count(*)::int8 FROM journal j WHERE j.command->>'type' = 'new_order'
            AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = (j.command->>'id')::int8)`,
      ),
    ).toBe(0);
    expect(
      await one<number>(
        db,
        'SELECT count(*)::int8 FROM trades t WHERE NOT EXISTS (SELECT 1 FROM journal j WHERE j.seq = t.seq)',
      ),
    ).toBe(0);
    expect(await one<number>(db, 'SELECT count(*)::int8 FROM orders WHERE updated_seq > $1', [lastSeq])).toBe(
      0,
    );

    // 3. recovered state = a fresh replay of the journal, in the tables and in the live service
    const replay = await replayJournal(db, { createExchange, exchangeConfig: DEFAULT_EXCHANGE_CONFIG });
    const state = replay.state.engine.exportState();
    expect(replay.state.lastSeq).toBe(lastSeq);
    expect(await compareDerivedTables(db, state, lastSeq)).toEqual([]);
    for (const account of ACCOUNTS) {
      const want = state.accounts.find((a) => a.account === account)!;
      expect(await client2.balance(account)).toMatchObject({ cash: want.cash, reserved: want.reserved });
      const open = await client2.listOrders(account, { status: 'open', limit: 500 });
      const wantOpen = state.openOrders.filter((o) => o.account === account).map((o) => [o.id, o.filledQty]);
      expect(open.items.map((o) => [o.id, o.filledQty]).sort((a, b) => a[0]! - b[0]!)).toEqual(
        wantOpen.sort((a, b) => a[0]! - b[0]!),
      );
    }
    expect((await client2.exchangeStatus()).lastSeq).toBe(lastSeq);

    // 4. the requests that were in flight: a retry answers with the original or places it once
    for (const { account, request } of stream.inDoubt) {
      const existed = await one<number>(
        db,
        'SELECT count(*)::int8 FROM orders WHERE account = $1 AND client_order_id = $2',
        [account, request.clientOrderId],
      );
      const retry = await client2.submitOrder(account, request).catch((err: OrdersApiError) => err);
      if (retry instanceof OrdersApiError) expect(retry.status).toBe(422);
      else expect(retry.replayed).toBe(existed === 1);
      // the tables follow the journal: reading through the service waits for them
      await client2.exchangeStatus();
      expect(
        await one<number>(
          db,
          'SELECT count(*)::int8 FROM orders WHERE account = $1 AND client_order_id = $2',
          [account, request.clientOrderId],
        ),
      ).toBe(1);
    }
    const maxId = await one<number>(db, 'SELECT max(id) FROM orders');
    const after = await client2.submitOrder('crash0', {
      symbol: SYMBOL,
      side: 'buy',
      type: 'limit',
      tif: 'gtc',
      qty: 1,
      price: MID - 50,
    });
    expect(after.order.id).toBeGreaterThan(maxId);

    // a graceful stop finishes what it accepted and exits cleanly
    second.process.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });
});

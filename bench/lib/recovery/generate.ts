/**
 * bench:recovery's journal writer, a child process of its own (the bench kills it with SIGKILL
 * once it reports done, so the restart that follows is a crash recovery, not a clean one).
 *
 * It writes the journal the way the service does, because it IS the service: createOrdersService
 * on the given database (migrated here), driven through its in-process client (the handlers the
 * gateway calls in the all-in-one process: validation, idempotency keys, the sequencer's group
 * commit of journal rows, the projector, periodic snapshots every BOURSE_SNAPSHOT_EVERY commands).
 * Only the HTTP hop is skipped, so 10 M commands take minutes instead of hours. No row is written
 * by hand.
 *
 * Order flow: ACCOUNTS accounts over SYMBOLS symbols (each account funded and holding shares of a
 * "home" symbol), then orders with a client order id each (so every order has an idempotency key,
 * as brokers' clients send them): two in three a GTC buy of 1 share at $9.50–9.99 that rests, one
 * in three an IOC sell of 1 share at $9.00 that trades with the best bid (order-mix.ts). The book
 * is held near OPEN_ORDERS resting orders by cancelling the oldest (a day's flow: most resting
 * orders are cancelled), so the engine's state stays the size of a real book while the journal,
 * the orders table and the idempotency keys grow with every command.
 *
 * Reports on stdout, one JSON object per line: {"progress":…} every REPORT commands (with the
 * process's RSS and heap), then {"done":…}. Environment: RECOVERY_DATABASE_URL (else PGlite in
 * RECOVERY_PGLITE_DIR), RECOVERY_COMMANDS, RECOVERY_ACCOUNTS, RECOVERY_SYMBOLS,
 * RECOVERY_OPEN_ORDERS, RECOVERY_IN_FLIGHT; the service's own BOURSE_* variables apply.
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { createMemoryBus } from '../../../src/platform/bus/memory.ts';
import { systemClock } from '../../../src/platform/clock.ts';
import { migrate } from '../../../src/platform/db/migrate.ts';
import { openDb } from '../../../src/platform/db/open.ts';
import { createOrdersService } from '../../../src/services/orders/index.ts';
import { idempotencyKeys } from '../../../src/services/orders/journal.ts';
import type { SubmitOutcome } from '../../../src/services/orders/sequencer.ts';
import { orderAt, REFERENCE_PRICE_CENTS } from '../load/order-mix.ts';

const env = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name}: not a count: ${raw}`);
  return n;
};

const COMMANDS = env('RECOVERY_COMMANDS', 10_000_000);
const ACCOUNTS = env('RECOVERY_ACCOUNTS', 1_000);
const SYMBOLS = env('RECOVERY_SYMBOLS', 20);
const OPEN_ORDERS = env('RECOVERY_OPEN_ORDERS', 20_000);
const IN_FLIGHT = env('RECOVERY_IN_FLIGHT', 4_000);
const REPORT = Math.max(1, Math.min(1_000_000, Math.floor(COMMANDS / 10)));

function cpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

const say = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

async function main(): Promise<void> {
  const db = await openDb({
    databaseUrl: process.env.RECOVERY_DATABASE_URL || undefined,
    pgliteDir: process.env.RECOVERY_PGLITE_DIR,
  });
  await migrate(db);
  const logger = pino({ level: process.env.RECOVERY_LOG_LEVEL ?? 'warn' });
  const orders = await createOrdersService({
    db,
    bus: createMemoryBus(),
    clock: systemClock,
    logger,
    // the table keeps the whole journal: the restart reads a 10 M-row journal, the harder case
    config: { journalRetain: null },
  });
  const client = orders.client;
  const sequencer = orders.sequencer;
  const engine = () => sequencer.engine();
  const symbols = Array.from({ length: SYMBOLS }, (_, k) => `RCV${String(k).padStart(2, '0')}`);
  const accounts = Array.from({ length: ACCOUNTS }, (_, k) => `rcv${k}`);
  for (const symbol of symbols)
    await client.addInstrument({
      symbol,
      tickSize: 1,
      lotSize: 1,
      minQty: 1,
      maxQty: 1_000_000,
      priceBandBps: 2_000,
      collarBps: 2_000,
      referencePrice: REFERENCE_PRICE_CENTS,
    });
  for (let k = 0; k < ACCOUNTS; k++) {
    await client.deposit(accounts[k]!, { amount: 100_000_000_00 });
    await client.transferShares(accounts[k]!, {
      symbol: symbols[k % SYMBOLS]!,
      qty: 100_000_000,
      cost: 100_000_000 * REFERENCE_PRICE_CENTS,
    });
  }

  // resting orders, oldest first (a ring: cancels take from the head)
  const resting: { account: string; id: number }[] = [];
  let restingHead = 0;
  const counts = { orders: 0, cancels: 0, rejected: 0, errors: 0 };
  const t0 = performance.now();
  const cpu0 = cpuMs();
  let inFlight = 0;
  let wake: (() => void) | null = null;
  const settle = () => {
    inFlight--;
    if (wake && inFlight < IN_FLIGHT) {
      const w = wake;
      wake = null;
      w();
    }
  };
  const onCommand = (out: SubmitOutcome) => {
    if (out.kind !== 'applied') return;
    const { command, events, rejectReason } = out.entry;
    if (rejectReason !== null) counts.rejected++;
    else if (command.type === 'new_order' && command.tif === 'gtc') {
      // resting unless it traded at once (the mix's buys never do, but say what happened)
      const last = events.findLast((e) => 'order' in e && e.order.id === command.id);
      if (last && 'order' in last && last.order.status === 'new')
        resting.push({ account: command.account, id: command.id });
    }
  };
  const onError = (err: unknown) => {
    counts.errors++;
    if (counts.errors <= 5) process.stderr.write(`recovery generator: ${(err as Error).message}\n`);
  };

  // seqs handed out so far (the setup's commands included)
  let submitted = SYMBOLS + 2 * ACCOUNTS;
  let nextReport = Math.ceil((submitted + 1) / REPORT) * REPORT;
  for (let i = 0; submitted < COMMANDS; ) {
    if (inFlight >= IN_FLIGHT) await new Promise<void>((r) => (wake = r));
    if (resting.length - restingHead > OPEN_ORDERS) {
      const { account, id } = resting[restingHead++]!;
      // compact the ring now and then
      if (restingHead > 100_000 && restingHead * 2 > resting.length) {
        resting.splice(0, restingHead);
        restingHead = 0;
      }
      // a client cancels what it knows is open (one filled meanwhile would cost the handler a
      // read of the tables and end as a rejected command)
      if (engine().order(id) === undefined) continue;
      counts.cancels++;
      inFlight++;
      sequencer.submit({ type: 'cancel', account, id }).then(onCommand, onError).finally(settle);
    } else {
      const o = orderAt(i, ACCOUNTS, SYMBOLS);
      const account = accounts[o.account]!;
      counts.orders++;
      inFlight++;
      const clientOrderId = `c${i.toString(36)}`;
      i++;
      sequencer
        .submit(
          {
            type: 'new_order',
            account,
            symbol: symbols[o.symbol]!,
            side: o.side,
            orderType: 'limit',
            tif: o.tif,
            qty: o.qty,
            price: o.priceCents,
          },
          { idempotencyKey: idempotencyKeys.order(account, clientOrderId), clientOrderId },
        )
        .then(onCommand, onError)
        .finally(settle);
    }
    submitted++;
    if (submitted >= nextReport) {
      nextReport += REPORT;
      const m = process.memoryUsage();
      say({
        progress: {
          commands: submitted,
          seconds: (performance.now() - t0) / 1000,
          cpuMs: cpuMs() - cpu0,
          rssMb: m.rss / 2 ** 20,
          heapUsedMb: m.heapUsed / 2 ** 20,
          externalMb: m.external / 2 ** 20,
          arrayBuffersMb: m.arrayBuffers / 2 ** 20,
          resting: resting.length - restingHead,
          ...counts,
        },
      });
    }
    // In a server, arriving requests turn the event loop. Here nothing does: on PGlite (in-process,
    // its queries resolve without I/O) commits, acks and submits chain as promise jobs, and the
    // timers, setImmediate slices and thread-pool callbacks of a snapshot wait for the next turn.
    // A run that turned it only at progress reports (every tenth) wrote no snapshot at all.
    if (submitted % 1_000 === 0) await new Promise((r) => setImmediate(r));
  }
  while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  const lastSeq = await orders.sequencer.barrier();
  const m = process.memoryUsage();
  say({
    done: {
      lastSeq,
      seconds: (performance.now() - t0) / 1000,
      cpuMs: cpuMs() - cpu0,
      rssMb: m.rss / 2 ** 20,
      heapUsedMb: m.heapUsed / 2 ** 20,
      projectedSeq: orders.projectedSeq(),
      ...counts,
      stats: orders.sequencer.stats(),
    },
  });
  // the bench kills this process now (SIGKILL): no clean close, no final snapshot
  if (process.env.RECOVERY_EXIT_WHEN_DONE) process.exit(0);
  await new Promise(() => {});
}

main().catch((err) => {
  process.stderr.write(`recovery generator failed: ${(err as Error).stack}\n`);
  process.exit(1);
});

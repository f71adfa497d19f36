/**
 * `npm run bench:recovery` — the orders service's restart after N journaled commands (default
 * 10 M), and its memory while they flow and after it restarts. Targets (issue 10): restart ≤ 10 s,
 * RSS ≤ 1 GB and bounded.
 *
 * Per backend (PostgreSQL in a scratch database, PGlite in a temporary data directory):
 *   1. write the journal: the orders service itself, in a child process (bench/lib/recovery/
 *      generate.ts), takes N commands through its sequencer: group-committed journal rows, the
 *      projector, snapshots every BOURSE_SNAPSHOT_EVERY commands, a bounded idempotency window.
 *      Its RSS is sampled as the commands flow;
 *   2. kill -9 it once the last command is acknowledged (a crash: no clean close, no final
 *      snapshot; the projection may lag the journal);
 *   3. `bourse start --role orders` on that database: time from spawn to serving (restore = the
 *      newest snapshot + the journal after it, projecting what the tables lack, comparing the
 *      tables with the engine, loading the idempotency keys of the window), RSS once serving;
 *   4. BENCH_RECOVERY_AFTER orders (default 10,000) through its internal HTTP API, RSS again.
 *
 * Environment: BENCH_RECOVERY_COMMANDS (default 10,000,000), BENCH_BACKENDS (default
 * "postgres,pglite"), BENCH_RECOVERY_AFTER, BENCH_RECOVERY_OPEN_ORDERS (resting orders the flow
 * holds the book at, default 20,000), BENCH_RECOVERY_ACCOUNTS (default 1,000, over 20 symbols), BOURSE_SNAPSHOT_EVERY (the service's, default 100,000),
 * BENCH_DATABASE_URL / DATABASE_URL (admin connection for the scratch database).
 *
 * Prints a table, the load average beside each measurement, then as the last line:
 *   {"recovery":{"postgres":{"commands":N,"orders":N,"readyMs":N,…},"pglite":{…}}}
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpOrdersClient } from '../src/services/orders/client.ts';
import { deriveKeys } from '../src/services/users/secret.ts';
import { startBourse } from './lib/bourse-process.ts';
import { orderAt } from './lib/load/order-mix.ts';
import { ADMIN_URL, requireDurablePostgres, withScratchDatabase } from './lib/scratch-postgres.ts';
import { formatTable } from './lib/table.ts';

const GENERATOR = fileURLToPath(new URL('./lib/recovery/generate.ts', import.meta.url));
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'postgres,pglite').split(',').map((s) => s.trim());
const COMMANDS = Number(process.env.BENCH_RECOVERY_COMMANDS ?? 10_000_000);
const AFTER = Number(process.env.BENCH_RECOVERY_AFTER ?? 10_000);
const OPEN_ORDERS = process.env.BENCH_RECOVERY_OPEN_ORDERS ?? '20000';
const ACCOUNTS = Number(process.env.BENCH_RECOVERY_ACCOUNTS ?? 1_000);
const SYMBOLS = 20;
const SECRET = 'bench-recovery-secret-0123456789abcdef-not-for-production';
const INTERNAL_TOKEN = deriveKeys(SECRET).internalToken;

const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

interface Progress {
  commands: number;
  seconds: number;
  cpuMs: number;
  rssMb: number;
  heapUsedMb: number;
  resting: number;
  orders: number;
  cancels: number;
  rejected: number;
  errors: number;
}

interface Done extends Omit<Progress, 'commands' | 'resting'> {
  lastSeq: number;
  projectedSeq: number;
  /** the generator's peak RSS (VmHWM), MB */
  peakRssMb: number;
}

export interface RecoveryResult {
  commands: number;
  orders: number;
  snapshotEvery: number;
  write: { seconds: number; cpuUsPerCommand: number; load: string };
  /** the writing service's RSS as the commands flowed (MB, one sample per tenth) */
  flowRssMb: number[];
  flowPeakRssMb: number;
  restart: {
    readyMs: number;
    /** CPU time of the restarted process until it served (ms) */
    readyCpuMs: number;
    /** from the service's own log: restore (snapshot + replay), projection caught up, tables compared, ready */
    restoredMs: number | null;
    caughtUpMs: number | null;
    verifiedMs: number | null;
    serviceMs: number | null;
    snapshotSeq: number | null;
    replayed: number | null;
    idempotencyKeys: number | null;
    rssMb: number;
    load: string;
  };
  after: { orders: number; seconds: number; rssMb: number; peakRssMb: number; load: string };
}

/** VmRSS and VmHWM of a process, MB. */
async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Runs the journal writer; SIGKILLs it once it reports the last command acknowledged. */
async function writeJournal(
  env: Record<string, string>,
): Promise<{ progress: Progress[]; done: Done; load: string }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', GENERATOR], {
    env: {
      ...process.env,
      RECOVERY_COMMANDS: String(COMMANDS),
      RECOVERY_ACCOUNTS: String(ACCOUNTS),
      RECOVERY_SYMBOLS: String(SYMBOLS),
      RECOVERY_OPEN_ORDERS: OPEN_ORDERS,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const progress: Progress[] = [];
  let buffered = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const done = await new Promise<Done>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
        const msg = JSON.parse(line) as { progress?: Progress; done?: Done };
        if (msg.progress) {
          progress.push(msg.progress);
          const p = msg.progress;
          process.stderr.write(
            `  ${p.commands.toLocaleString('en-US')} commands, ${p.seconds.toFixed(0)} s, RSS ${p.rssMb.toFixed(0)} MB (load ${load()})\n`,
          );
        }
        if (msg.done) {
          const d = msg.done;
          memoryOf(child.pid!).then(
            (m) => resolve({ ...d, peakRssMb: m.peak }),
            () => resolve({ ...d, peakRssMb: Number.NaN }),
          );
        }
      }
    });
    exited.then((code) =>
      reject(new Error(`the journal writer exited with code ${code} before it was done`)),
    );
  });
  const at = load();
  child.kill('SIGKILL');
  await exited;
  return { progress, done, load: at };
}

const field = (line: string, name: string): number | null => {
  const m = new RegExp(`"${name}":(\\d+)`).exec(line);
  return m ? Number(m[1]) : null;
};

async function measure(backend: string, env: Record<string, string>): Promise<RecoveryResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bourse-bench-recovery-'));
  try {
    process.stderr.write(
      `bench:recovery ${backend}: writing ${COMMANDS.toLocaleString('en-US')} commands through the orders service…\n`,
    );
    const written = await writeJournal(
      env.DATABASE_URL
        ? { RECOVERY_DATABASE_URL: env.DATABASE_URL }
        : { RECOVERY_PGLITE_DIR: join(dataDir, 'pglite') },
    );
    process.stderr.write(`bench:recovery ${backend}: writer killed (kill -9); restarting…\n`);

    let recovered = '';
    const t0 = performance.now();
    const server = await startBourse(
      'orders',
      {
        BOURSE_DATA_DIR: dataDir,
        BOURSE_SECRET: SECRET,
        BOURSE_INTERNAL_TOKEN: INTERNAL_TOKEN,
        BOURSE_DEMO: 'off',
        BOURSE_FIX_PORT: 'off',
        BOURSE_JOURNAL_RETAIN: 'all',
        DATABASE_URL: '',
        REDIS_URL: '',
        NATS_URL: '',
        LOG_LEVEL: 'info',
        ...env,
      },
      900_000,
      (line) => {
        if (line.includes('state recovered')) recovered = line;
      },
    );
    const readyMs = performance.now() - t0;
    // the load-robust figure: CPU the restart took (process start, imports, migrations check included)
    const readyCpuMs = await server.cpuMs();
    try {
      const restartLoad = load();
      const restartRss = (await memoryOf(server.pid)).rss;
      const client = httpOrdersClient(server.url, { internalToken: INTERNAL_TOKEN });
      const t1 = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < AFTER) {
          const i = next++;
          const o = orderAt(COMMANDS + i, ACCOUNTS, SYMBOLS);
          await client.submitOrder(`rcv${o.account}`, {
            symbol: `RCV${String(o.symbol).padStart(2, '0')}`,
            side: o.side,
            type: 'limit',
            tif: o.tif,
            qty: o.qty,
            price: o.priceCents,
            clientOrderId: `after${i}`,
          });
        }
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      const afterSeconds = (performance.now() - t1) / 1000;
      const afterMem = await memoryOf(server.pid);
      const d = written.done;
      return {
        commands: d.lastSeq,
        orders: d.orders,
        snapshotEvery: Number(process.env.BOURSE_SNAPSHOT_EVERY ?? 100_000),
        write: { seconds: d.seconds, cpuUsPerCommand: (d.cpuMs * 1000) / d.lastSeq, load: written.load },
        flowRssMb: written.progress.map((p) => Math.round(p.rssMb)),
        flowPeakRssMb: d.peakRssMb,
        restart: {
          readyMs,
          readyCpuMs,
          restoredMs: field(recovered, 'restoredMs'),
          caughtUpMs: field(recovered, 'caughtUpMs'),
          verifiedMs: field(recovered, 'verifiedMs'),
          serviceMs: field(recovered, 'ms'),
          snapshotSeq: field(recovered, 'snapshotSeq'),
          replayed: field(recovered, 'replayed'),
          idempotencyKeys: field(recovered, 'idempotencyKeys'),
          rssMb: restartRss,
          load: restartLoad,
        },
        after: {
          orders: AFTER,
          seconds: afterSeconds,
          rssMb: afterMem.rss,
          peakRssMb: afterMem.peak,
          load: load(),
        },
      };
    } finally {
      await server.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

const n = (x: number | null, digits = 0): string =>
  x === null || Number.isNaN(x)
    ? '—'
    : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<number> {
  const results: Record<string, RecoveryResult> = {};
  for (const backend of BACKENDS) {
    if (backend === 'postgres') {
      await requireDurablePostgres(ADMIN_URL);
      results.postgres = await withScratchDatabase('bourse_bench_recovery', (url) =>
        measure('postgres', { DATABASE_URL: url }),
      );
    } else if (backend === 'pglite') {
      results.pglite = await measure('pglite', {});
    } else throw new Error(`BENCH_BACKENDS: unknown backend '${backend}' (postgres, pglite)`);
  }

  console.log(
    `\nbench:recovery — orders service: ${COMMANDS.toLocaleString('en-US')} journaled commands, kill -9, ` +
      `bourse start --role orders; ${cpus().length}× ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}\n`,
  );
  const rows: string[][] = [];
  for (const [name, r] of Object.entries(results)) {
    const s = r.restart;
    rows.push([
      name,
      n(r.commands),
      n(r.orders),
      `${n(s.snapshotSeq)} + ${n(s.replayed)}`,
      `${n(r.restart.readyMs / 1000, 1)} (CPU ${n(r.restart.readyCpuMs / 1000, 1)})`,
      `${n(s.restoredMs)} / ${n(s.caughtUpMs)} / ${n(s.verifiedMs)} / ${n(s.serviceMs)}`,
      n(s.idempotencyKeys),
      `${n(r.flowRssMb[0] ?? null)} → ${n(r.flowRssMb.at(-1) ?? null)} (peak ${n(r.flowPeakRssMb)})`,
      n(s.rssMb),
      `${n(r.after.rssMb)} (peak ${n(r.after.peakRssMb)})`,
      `${r.write.load} / ${s.load}`,
    ]);
  }
  console.log(
    formatTable(
      [
        'backend',
        'commands',
        'orders',
        'snapshot + replayed',
        'ready s (CPU s)',
        'restore / caught up / compared / keys loaded, ms',
        'keys held',
        'RSS while writing, MB',
        'RSS restarted, MB',
        `RSS after ${n(AFTER)} more orders, MB`,
        'load avg (write / restart)',
      ],
      rows,
    ),
  );
  for (const [name, r] of Object.entries(results))
    console.log(
      `${name}: journal written in ${n(r.write.seconds)} s, ${n(r.write.cpuUsPerCommand, 1)} µs of the writer's CPU per command; ` +
        `${n(r.after.orders)} orders after the restart in ${n(r.after.seconds, 1)} s (load ${r.after.load})`,
    );
  console.log(JSON.stringify({ recovery: results }));
  return 0;
}

process.exitCode = await main();

/**
 * Starts a whole Bourse cluster as local processes on loopback ports: a 3-node NATS JetStream
 * cluster (cluster-nats.ts), then `bourse start --role …` for each process of the plan
 * (cluster-plan.ts), stage by stage, each stage once the one before is up. PostgreSQL and Redis
 * are the ones configured (they are not started here). Used by `bourse cluster` and its test.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Child, spawnChild } from './cluster-child.ts';
import { ensureDatabase } from './cluster-database.ts';
import { type NatsCluster, startNatsCluster } from './cluster-nats.ts';
import {
  type ClusterShape,
  DEFAULT_SHAPE,
  type PlannedProcess,
  planCluster,
  processCount,
} from './cluster-plan.ts';
import { freePorts } from './cluster-ports.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BOURSE = join(ROOT, 'src/cli/bourse.ts');

export interface ClusterOptions {
  databaseUrl: string;
  redisUrl: string;
  /** BOURSE_SECRET shared by every process (the internal token is derived from it); default: random */
  secret?: string;
  shape?: ClusterShape;
  /** the cluster's folder (logs, NATS stores, data folders); default: a new temporary one */
  dir?: string;
  /** remove the folder on stop (default: only a temporary one made here) */
  removeDir?: boolean;
  /** more environment for every process (LOG_LEVEL, BOURSE_ADMIN_PASSWORD, …) */
  env?: Record<string, string>;
  /** how long one stage may take to come up */
  readyTimeoutMs?: number;
  /** progress lines */
  onProgress?: (line: string) => void;
}

export interface ClusterProcess extends PlannedProcess {
  child: Child;
  logFile: string;
}

export interface RunningCluster {
  dir: string;
  secret: string;
  nats: NatsCluster;
  processes: readonly ClusterProcess[];
  gateways: readonly string[];
  /** ms from the call to every process being up */
  startMs: number;
  process(name: string): ClusterProcess;
  /** kill -9 one process */
  kill(name: string): Promise<void>;
  /** the orders process that leads each shard now (its /readyz answers 200), by shard; a shard mid-takeover is absent */
  ordersLeaders(): Promise<Map<number, ClusterProcess>>;
  /** resident memory of every process (MB), from /proc; NATS nodes included */
  memory(): Promise<{ name: string; pid: number; rssMb: number | null }[]>;
  /** stops everything, gateways first and NATS last; each process bounded (SIGTERM, then SIGKILL) */
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  const started = Date.now();
  const say = options.onProgress ?? (() => {});
  const shape = options.shape ?? DEFAULT_SHAPE;
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'bourse-cluster-')));
  await mkdir(dir, { recursive: true });
  const secret = options.secret ?? randomBytes(32).toString('base64url');
  const processes: ClusterProcess[] = [];
  let nats: NatsCluster | undefined;

  const stop = async () => {
    // the edge first, the writers last, the bus after everything that publishes
    for (const stage of [...new Set(processes.map((p) => p.stage))].sort((a, b) => b - a)) {
      const group = processes.filter((p) => p.stage === stage);
      // the standbys before their leaders: stopping a leader first would hand its standby the shard
      await Promise.all(group.filter((p) => p.standby).map((p) => p.child.stop(15_000)));
      await Promise.all(group.filter((p) => !p.standby).map((p) => p.child.stop(15_000)));
    }
    await nats?.stop();
    if (options.removeDir ?? ownDir) await rm(dir, { recursive: true, force: true });
  };

  try {
    say(`starting 3 NATS nodes (JetStream, replicas 3) in ${dir}`);
    nats = await startNatsCluster({ dir: join(dir, 'nats') });
    await ensureDatabase(options.databaseUrl);
    const plan = planCluster({
      shape,
      ports: await freePorts(processCount(shape)),
      dir,
      common: {
        DATABASE_URL: options.databaseUrl,
        REDIS_URL: options.redisUrl,
        NATS_URL: nats.urls,
        BOURSE_NATS_REPLICAS: '3',
        BOURSE_SECRET: secret,
        // the simulated market runs in the all-in-one process only; FIX is not part of this cluster
        BOURSE_DEMO: 'off',
        BOURSE_FIX_PORT: 'off',
        // on loopback a health check is cheap: notice a dead instance within ~2 s, not ~10
        BOURSE_HEALTH_INTERVAL_MS: '1000',
        LOG_LEVEL: 'info',
        ...options.env,
      },
    });
    for (const stage of [...new Set(plan.map((p) => p.stage))].sort((a, b) => a - b)) {
      const group = plan.filter((p) => p.stage === stage);
      say(`starting ${group.map((p) => p.name).join(', ')}`);
      const launched = group.map((p) => launch(p, dir));
      processes.push(...launched);
      await Promise.all(launched.map((p) => waitUp(p, options.readyTimeoutMs ?? 120_000)));
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const byName = (name: string): ClusterProcess => {
    const p = processes.find((x) => x.name === name);
    if (!p) throw new Error(`no process ${name} in the cluster`);
    return p;
  };
  const natsCluster = nats;
  return {
    dir,
    secret,
    nats: natsCluster,
    processes,
    gateways: processes.filter((p) => p.role === 'gateway').map((p) => p.url),
    startMs: Date.now() - started,
    process: byName,
    kill: async (name) => {
      const p = byName(name);
      p.child.signal('SIGKILL');
      await p.child.exited;
    },
    ordersLeaders: async () => {
      const orders = processes.filter((p) => p.shard !== undefined && p.child.running());
      const ready = await Promise.all(
        orders.map(async (p) => {
          try {
            const res = await fetch(`${p.url}/readyz`, { signal: AbortSignal.timeout(2000) });
            await res.arrayBuffer();
            return res.ok;
          } catch {
            return false;
          }
        }),
      );
      return new Map(orders.filter((_, i) => ready[i]).map((p) => [p.shard!, p]));
    },
    memory: async () => {
      const all = [
        ...natsCluster.nodes.map((n) => ({ name: `nats ${n.name}`, child: n.child })),
        ...processes.map((p) => ({ name: p.name, child: p.child })),
      ];
      return Promise.all(
        all.map(async ({ name, child }) => ({
          name,
          pid: child.pid,
          rssMb: child.running() ? await rssMb(child.pid) : null,
        })),
      );
    },
    stop,
  };
}

function launch(p: PlannedProcess, dir: string): ClusterProcess {
  const logFile = join(dir, `${p.name}.log`);
  const child = spawnChild(p.name, process.execPath, ['--import', 'tsx', BOURSE, 'start', '--role', p.role], {
    // this process's environment, then the cluster's: a developer's PORT or DATABASE_URL must not leak in
    env: { ...process.env, ...p.env },
    cwd: ROOT,
    logFile,
  });
  return { ...p, child, logFile };
}

/** Ready (/readyz 200); for the orders standby, alive (/healthz 200): it is never ready by design. */
async function waitUp(p: ClusterProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const path = p.standby ? '/healthz' : '/readyz';
  let last = 'no answer';
  for (;;) {
    if (!p.child.running())
      throw new Error(`${p.name} exited while starting (log: ${p.logFile}):\n${p.child.tail()}`);
    try {
      const res = await fetch(`${p.url}${path}`, { signal: AbortSignal.timeout(2000) });
      last = `${res.status}`;
      if (res.ok) return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${p.name} not up after ${timeoutMs} ms (${path}: ${last}; log: ${p.logFile}):\n${p.child.tail()}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function rssMb(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb === undefined ? null : Math.round(Number(kb) / 1024);
  } catch {
    return null; // not Linux, or gone
  }
}

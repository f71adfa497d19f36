/**
 * Orders shard nodes as bench:shards runs them: `bourse start --role orders-shard` processes (the
 * real CLI) on one PostgreSQL database and one NATS, each the leader or a standby of its shard; and
 * what the bench asks them over their internal HTTP door (/internal/orders-shard): listing,
 * funding, the accounts' totals once the shards have gone quiet.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Child, spawnChild } from '../../src/cli/cluster-child.ts';
import { freePorts } from '../../src/cli/cluster-ports.ts';
import { FORWARDED_HEADERS } from '../../src/platform/http/forwarded-identity.ts';
import { ROLE_HEADER } from '../../src/services/orders/problems.ts';
import { SHARD_PREFIX } from '../../src/services/orders/shards/routes.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BOURSE = join(ROOT, 'src/cli/bourse.ts');

export interface ShardNodeProcess {
  name: string;
  shard: number;
  url: string;
  child: Child;
}

export interface ShardNodesOptions {
  shards: number;
  /** shards that also get a standby (started after every leader is up) */
  standbys?: readonly number[];
  databaseUrl: string;
  natsUrl: string;
  /** the deployment's subject prefix and stream on that NATS (BOURSE_NATS_PREFIX, BOURSE_NATS_STREAM) */
  natsPrefix: string;
  natsStream: string;
  internalToken: string;
  leaseMs: number;
}

export interface ShardNodes {
  nodes: ShardNodeProcess[];
  /** the shard's instances, its first leader first */
  instances(shard: number): ShardNodeProcess[];
  /** the instance of the shard whose /readyz says it leads */
  leader(shard: number): Promise<ShardNodeProcess>;
  /** kill -9 */
  kill(node: ShardNodeProcess): Promise<void>;
  stop(): Promise<void>;
}

export async function startShardNodes(o: ShardNodesOptions): Promise<ShardNodes> {
  const dir = await mkdtemp(join(tmpdir(), 'bourse-shards-'));
  const nodes: ShardNodeProcess[] = [];
  const launch = async (shard: number, name: string): Promise<ShardNodeProcess> => {
    const [port] = await freePorts(1);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: o.databaseUrl,
      NATS_URL: o.natsUrl,
      BOURSE_NATS_PREFIX: o.natsPrefix,
      BOURSE_NATS_STREAM: o.natsStream,
      BOURSE_INTERNAL_TOKEN: o.internalToken,
      BOURSE_ORDERS_SHARD: String(shard),
      BOURSE_ORDERS_SHARDS: String(o.shards),
      BOURSE_ORDERS_LEASE_MS: String(o.leaseMs),
      BOURSE_INSTANCE_ID: name,
      BOURSE_DEMO: 'off',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
    };
    delete env.REDIS_URL;
    const child = spawnChild(
      name,
      process.execPath,
      ['--import', 'tsx', BOURSE, 'start', '--role', 'orders-shard'],
      { env, cwd: ROOT, logFile: join(dir, `${name}.log`) },
    );
    const node = { name, shard, url: `http://127.0.0.1:${port}`, child };
    nodes.push(node);
    return node;
  };
  const stop = async () => {
    // standbys first: stopping a leader first would hand them the shard
    const standbys = nodes.filter((n) => n.name.endsWith('b'));
    await Promise.all(standbys.map((n) => n.child.stop(15_000)));
    await Promise.all(nodes.filter((n) => !standbys.includes(n)).map((n) => n.child.stop(15_000)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const leaders = await Promise.all(Array.from({ length: o.shards }, (_, k) => launch(k, `shard-${k}a`)));
    await Promise.all(leaders.map((n) => waitUp(n, '/readyz')));
    const standbys = await Promise.all((o.standbys ?? []).map((k) => launch(k, `shard-${k}b`)));
    await Promise.all(standbys.map((n) => waitUp(n, '/healthz')));
  } catch (err) {
    await stop();
    throw err;
  }
  const instances = (shard: number) => nodes.filter((n) => n.shard === shard);
  return {
    nodes,
    instances,
    async leader(shard) {
      const deadline = Date.now() + 60_000;
      for (;;) {
        for (const n of instances(shard)) {
          if (!n.child.running()) continue;
          const res = await fetch(`${n.url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
          if (res?.ok && res.headers.get(ROLE_HEADER) === 'leader') return n;
        }
        if (Date.now() > deadline) throw new Error(`orders shard ${shard}: no leader after 60 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async kill(node) {
      node.child.signal('SIGKILL');
      await node.child.exited;
    },
    stop,
  };
}

async function waitUp(node: ShardNodeProcess, path: '/readyz' | '/healthz'): Promise<void> {
  const deadline = Date.now() + 120_000;
  let last = 'no answer';
  for (;;) {
    if (!node.child.running()) throw new Error(`${node.name} exited while starting:\n${node.child.tail()}`);
    try {
      const res = await fetch(`${node.url}${path}`, { signal: AbortSignal.timeout(2000) });
      last = String(res.status);
      if (res.ok) return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(`${node.name} not up after 120 s (${path}: ${last}):\n${node.child.tail()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One internal call to a shard node; a 503 (not the leader yet) is retried for up to 10 s. */
export async function shardCall<T>(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${base}${SHARD_PREFIX}${path}`, {
      method,
      headers: {
        [FORWARDED_HEADERS.token]: token,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.ok) return (text ? JSON.parse(text) : undefined) as T;
    if (res.status === 503 && attempt < 40) {
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  }
}

export interface ShardStatus {
  shard: number;
  role: string;
  seq: number;
  unpublished: number;
}

export interface AccountView {
  account: string;
  cash: number;
  pending: number;
  kept: { shard: number; cash: number; shares: { symbol: string; qty: number }[] }[];
  positions: { symbol: string; qty: number }[];
}

/**
 * Waits until the shards have nothing left to send one another: every leader has handed its
 * messages to the bus (unpublished 0) and no leader's journal has moved for `stableMs` (longer
 * than the bus's redelivery wait, 1 s, so a message handed to a dead node has come round again).
 */
export async function waitQuiet(leaders: readonly string[], token: string, stableMs = 2500): Promise<void> {
  const deadline = Date.now() + 120_000;
  let last = '';
  let since = Date.now();
  for (;;) {
    const status = await Promise.all(leaders.map((l) => shardCall<ShardStatus>(l, token, 'GET', '/status')));
    const now = JSON.stringify(status.map((s) => [s.role, s.seq, s.unpublished]));
    if (now !== last || status.some((s) => s.unpublished > 0 || s.role !== 'leader')) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= stableMs) return;
    if (Date.now() > deadline) throw new Error(`the shards did not go quiet in 120 s: ${now}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Totals {
  /** cents over every account (each account's total: free + pending + kept at matching shards) */
  cash: number;
  /** shares per symbol: free positions + kept at matching shards */
  shares: Record<string, number>;
  /** accounts with something still on its way (pending cash), which a quiet cluster has none of */
  pending: number;
}

/** Sums the accounts' views, each read from its shard's leader (`leaderOf`). */
export async function accountTotals(
  accounts: readonly string[],
  leaderOf: (account: string) => string,
  token: string,
): Promise<Totals> {
  const totals: Totals = { cash: 0, shares: {}, pending: 0 };
  const add = (symbol: string, qty: number) => {
    totals.shares[symbol] = (totals.shares[symbol] ?? 0) + qty;
  };
  for (let k = 0; k < accounts.length; k += 32) {
    const views = await Promise.all(
      accounts
        .slice(k, k + 32)
        .map((a) => shardCall<AccountView>(leaderOf(a), token, 'GET', `/accounts/${encodeURIComponent(a)}`)),
    );
    for (const v of views) {
      totals.cash += v.cash;
      if (v.pending !== 0) totals.pending += 1;
      for (const p of v.positions) add(p.symbol, p.qty);
      for (const kept of v.kept) for (const s of kept.shares) add(s.symbol, s.qty);
    }
  }
  return totals;
}

/**
 * The cluster as GET /v1/admin/status shows it: every configured orders instance and market-data
 * instance asked for its role (`/healthz` with the internal token), gathered by shard and leader.
 * Each instance speaks for itself, so a view may be caught mid-takeover (no leader, or the old and
 * the new one both answering); an instance that does not answer is listed as unreachable.
 */
import { FORWARDED_HEADERS } from '../../platform/http/forwarded-identity.ts';
import type { InstanceAnswer, Upstream } from '../../platform/http/upstream/upstream.ts';
import { ROLE_HEADER } from '../../services/orders/client.ts';

interface OrdersDetails {
  role?: string;
  shard?: number;
  holder?: string | null;
  epoch?: number;
  seq?: number;
  lag?: number;
}

interface LeaderDetails {
  role?: string;
  holder?: string | null;
  epoch?: number;
}

export interface ShardView {
  shard: number;
  leader: { holder: string | null; epoch: number | null; url: string; seq: number | null } | null;
  standbys: { holder: string | null; url: string; seq: number | null; lag: number | null }[];
  /** ex-leaders that lost their lease and write nothing (their supervisor restarts them) */
  fenced: { holder: string | null; url: string; epoch: number | null }[];
}

export interface Unreachable {
  url: string;
  error: string;
}

export interface OnceLeaderView {
  leader: { holder: string | null; epoch: number | null; url: string } | null;
  followers: { holder: string | null; url: string }[];
  unreachable: Unreachable[];
}

function bodyOf(answer: InstanceAnswer): Record<string, unknown> | undefined {
  try {
    return JSON.parse(answer.response!.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The JSON details of an instance that answers, or why it is not counted. */
function detailsOf(answer: InstanceAnswer): { body: Record<string, unknown> } | { error: string } {
  if (!answer.response) return { error: answer.error ?? 'no answer' };
  const body = bodyOf(answer);
  if (!body) return { error: `answered ${answer.response.status} without JSON` };
  // starting, or no details (the token was refused): not a member yet as far as we can tell
  if (answer.response.status !== 200 && body.status !== 'fenced')
    return { error: `answered ${answer.response.status} ${String(body.status ?? '')}`.trim() };
  return { body };
}

const healthz = (token: string) => ({
  method: 'GET',
  path: '/healthz',
  headers: { accept: 'application/json', [FORWARDED_HEADERS.token]: token },
});

/**
 * Orders shards, from every instance of every balancer (the unsharded service's, or one per shard
 * node group), each placed by the shard it says it serves. An instance without leadership details
 * (PGlite, the all-in-one process) is the only writer of shard 0: shown as its leader, with the
 * exchange's last seq when given.
 */
export async function ordersShards(
  orders: readonly Upstream[],
  token: string,
  lastSeq?: number,
): Promise<{ shards: ShardView[]; unreachable: Unreachable[] }> {
  const shards = new Map<number, ShardView>();
  const unreachable: Unreachable[] = [];
  const shardOf = (n: number): ShardView => {
    let view = shards.get(n);
    if (!view) {
      view = { shard: n, leader: null, standbys: [], fenced: [] };
      shards.set(n, view);
    }
    return view;
  };
  const answers = (await Promise.all(orders.map((u) => u.each(healthz(token))))).flat();
  for (const answer of answers) {
    const found = detailsOf(answer);
    if ('error' in found) {
      unreachable.push({ url: answer.url, error: found.error });
      continue;
    }
    const o = found.body.orders as OrdersDetails | undefined;
    if (!o) {
      shardOf(0).leader = { holder: null, epoch: null, url: answer.url, seq: lastSeq ?? null };
      continue;
    }
    const header = answer.response!.headers[ROLE_HEADER];
    const role = typeof header === 'string' ? header : o.role === 'lost' ? 'fenced' : o.role;
    const view = shardOf(o.shard ?? 0);
    const holder = o.holder ?? null;
    if (role === 'leader') {
      // two leaders can only be seen mid-takeover: the newer epoch is the one that writes
      if (!view.leader || (view.leader.epoch ?? 0) < (o.epoch ?? 0))
        view.leader = { holder, epoch: o.epoch ?? null, url: answer.url, seq: o.seq ?? null };
    } else if (role === 'fenced') {
      view.fenced.push({ holder, url: answer.url, epoch: o.epoch ?? null });
    } else {
      view.standbys.push({ holder, url: answer.url, seq: o.seq ?? null, lag: o.lag ?? null });
    }
  }
  return { shards: [...shards.values()].sort((a, b) => a.shard - b.shard), unreachable };
}

/**
 * The once-per-cluster leader among a service's instances (market data: simulated feeds and bar
 * publication), from the `key` member of their /healthz details. An instance without one runs alone.
 */
export async function onceLeader(upstream: Upstream, token: string, key: string): Promise<OnceLeaderView> {
  const view: OnceLeaderView = { leader: null, followers: [], unreachable: [] };
  for (const answer of await upstream.each(healthz(token))) {
    const found = detailsOf(answer);
    if ('error' in found) {
      view.unreachable.push({ url: answer.url, error: found.error });
      continue;
    }
    const d = (found.body[key] as LeaderDetails | undefined) ?? { role: 'single' };
    const holder = d.holder ?? null;
    if (d.role === 'leader' || d.role === 'single') {
      if (!view.leader || (view.leader.epoch ?? 0) < (d.epoch ?? 0))
        view.leader = { holder, epoch: d.epoch ?? null, url: answer.url };
    } else {
      view.followers.push({ holder, url: answer.url });
    }
  }
  return view;
}

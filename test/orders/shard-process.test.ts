/**
 * Orders shard nodes as real processes (issue 11): 2 shards × (leader + standby) = 4
 * `bourse start --role orders-shard` on one PostgreSQL database and the machine's NATS JetStream
 * (a stream and subject prefix of this run's own), lease 1 s.
 *
 *   Two symbols, one per matching shard, listed on both leaders; accounts funded at their own risk
 *   shard; a few closed-loop client streams send orders that trade across the shards, each to the
 *   instance of its account's shard that answered last. Mid-stream, kill -9 of shard 1's leader: its
 *   standby takes over (/readyz turns 200, role header leader). A client sends a request again to the
 *   shard's other instance when it was not executed (connection refused, 503 not-leader), and also
 *   when its outcome is unknown (a connection cut mid-request): every order carries a client order
 *   id, so a resend of one that was placed gets the original answer (200), never a second order.
 *
 *   Once quiet (every leader's outbox handed to the bus, no journal moving): every acknowledged order
 *   id is in shard_journal, no id was acknowledged twice, cash over every account (the fee account's
 *   included) equals the deposits and the shares of each symbol what was transferred. The time from
 *   the kill to the first acknowledgement from shard 1 is printed, not asserted.
 */
import { expect, it, onTestFinished, vi } from 'vitest';
import { matchingShardOf, riskShardOf, type ShardLayout } from '../../src/engine/shards/layout.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { openPostgres } from '../../src/platform/db/postgres.ts';
import { FORWARDED_HEADERS } from '../../src/platform/http/forwarded-identity.ts';
import { DEFAULT_EXCHANGE_CONFIG } from '../../src/services/orders/index.ts';
import { ROLE_HEADER } from '../../src/services/orders/problems.ts';
import { SHARD_PREFIX } from '../../src/services/orders/shards/routes.ts';
import { deleteStreams, ofStream, STREAM_PREFIX } from '../support/nats.ts';
import { createTestDatabase } from '../support/postgres.ts';
import { describeWith, serviceUrl } from '../support/services.ts';
import { type Child, freePort, spawnService, TEST_INTERNAL_TOKEN, waitReady } from './support/process.ts';
import { prng } from './support/service.ts';

vi.setConfig({ testTimeout: 300_000 });

const LAYOUT: ShardLayout = { riskShards: 2, matchingShards: 2 };
const LEASE_MS = 1000;
const STREAMS = 4;
const CASH = 1_000_000_000;
const SHARES = 100_000;
const MID = 10_000;
const HEADERS = { [FORWARDED_HEADERS.token]: TEST_INTERNAL_TOKEN };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The first `perShard` names of `${prefix}${n}` owned by each shard. */
function namesByShard(prefix: string, perShard: number, shardOf: (name: string) => number): string[][] {
  const out: string[][] = [[], []];
  for (let n = 0; out.some((names) => names.length < perShard); n++) {
    const name = `${prefix}${n}`;
    const names = out[shardOf(name)]!;
    if (names.length < perShard) names.push(name);
  }
  return out;
}

interface Instance {
  name: string;
  shard: number;
  url: string;
  child: Child;
}

type Outcome =
  | { kind: 'answer'; status: number; body: Record<string, unknown>; role: string | null }
  /** nothing reached the node: surely not executed */
  | { kind: 'refused' }
  /** the request may or may not have been executed (connection cut, timeout) */
  | { kind: 'unknown'; error: string };

async function send(url: string, method: string, path: string, body?: unknown): Promise<Outcome> {
  try {
    const res = await fetch(`${url}${SHARD_PREFIX}${path}`, {
      method,
      headers: { ...HEADERS, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    return {
      kind: 'answer',
      status: res.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      role: res.headers.get(ROLE_HEADER),
    };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === 'ECONNREFUSED') return { kind: 'refused' };
    return { kind: 'unknown', error: String(cause?.code ?? (err as Error).message) };
  }
}

/** Connection cuts seen mid-request (each resent when the request carried a client order id). */
const unknownSeen: string[] = [];

/** An answer from whichever of the shard's instances leads, with the ones not executed sent again. */
async function toShard(
  shards: Instance[][],
  current: number[],
  shard: number,
  method: string,
  path: string,
  body?: unknown,
): Promise<Outcome & { resent: number }> {
  const deadline = Date.now() + 60_000;
  for (let resent = 0; ; resent++) {
    const instances = shards[shard]!;
    const at = current[shard]!;
    const outcome = await send(instances[at]!.url, method, path, body);
    const notLeader = outcome.kind === 'answer' && outcome.status === 503 && outcome.role !== null;
    // an unknown outcome is safe to resend only with a client order id (answered, not placed again)
    const keyed = typeof body === 'object' && body !== null && 'client_order_id' in body;
    const again = outcome.kind === 'refused' || notLeader || (outcome.kind === 'unknown' && keyed);
    if (outcome.kind === 'unknown') unknownSeen.push(outcome.error);
    if (!again || Date.now() > deadline) return { ...outcome, resent };
    if (current[shard] === at) current[shard] = (at + 1) % instances.length;
    await sleep(Math.min(100, 5 * 2 ** Math.min(resent, 5)));
  }
}

describeWith(['postgres', 'nats'], 'orders shard nodes as processes', () => {
  it('2 shards × (leader + standby): orders across shards, kill -9 of a leader mid-stream, nothing acknowledged lost, cash and shares conserved', async () => {
    const database = await createTestDatabase(serviceUrl('postgres'));
    const natsUrl = serviceUrl('nats');
    const id = `${Math.floor(Date.now() / 1000)}_${process.pid}_shards`;
    const stream = `${STREAM_PREFIX}${id}`;
    const children: Child[] = [];
    onTestFinished(async () => {
      for (const c of children)
        if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
      await Promise.all(children.map((c) => c.exited));
      await database.drop();
      await deleteStreams(natsUrl, ofStream(stream));
    });
    const db = await openPostgres({ connectionString: database.url, max: 2 });
    onTestFinished(() => db.close());
    await migrate(db); // once, before four processes start at the same time

    const start = async (shard: number, name: string): Promise<Instance> => {
      const port = await freePort();
      const child = spawnService(
        database.url,
        port,
        {
          NATS_URL: natsUrl,
          BOURSE_NATS_STREAM: stream,
          BOURSE_NATS_PREFIX: `t${id}`,
          BOURSE_ORDERS_SHARD: String(shard),
          BOURSE_ORDERS_SHARDS: '2',
          BOURSE_ORDERS_LEASE_MS: String(LEASE_MS),
          BOURSE_INSTANCE_ID: name,
        },
        'orders-shard',
      );
      children.push(child);
      await waitReady(child, port);
      return { name, shard, url: `http://127.0.0.1:${port}`, child };
    };
    const readyz = async (i: Instance) => {
      const res = await fetch(`${i.url}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return { status: res.status, role: res.headers.get(ROLE_HEADER) };
    };
    const until = async (what: string, check: () => Promise<boolean>, watch?: Child) => {
      const deadline = Date.now() + 60_000;
      while (!(await check().catch(() => false))) {
        if (Date.now() > deadline)
          throw new Error(
            `timed out waiting for ${what}${watch ? `:\n${watch.output.join('').slice(-4000)}` : ''}`,
          );
        await sleep(20);
      }
    };

    const leaders = await Promise.all([start(0, 'shard-0a'), start(1, 'shard-1a')]);
    // alive first (/healthz), then leading once its journal is replayed and it consumes its subject
    for (const l of leaders)
      await until(
        `${l.name} to lead`,
        async () => {
          const r = await readyz(l);
          return r.status === 200 && r.role === 'leader';
        },
        l.child,
      );
    const standbys = await Promise.all([start(0, 'shard-0b'), start(1, 'shard-1b')]);
    for (const s of standbys) expect(await readyz(s)).toEqual({ status: 503, role: 'standby' });
    const shards: Instance[][] = [
      [leaders[0]!, standbys[0]!],
      [leaders[1]!, standbys[1]!],
    ];
    const current = [0, 0];

    // one symbol per matching shard, listed on both shards (the risk side prices every symbol)
    const symbols = namesByShard('SH', 1, (s) => matchingShardOf(s, LAYOUT)).flat();
    for (const l of leaders)
      for (const symbol of symbols) {
        const listed = await send(l.url, 'POST', '/instruments', {
          symbol,
          tick_size: 1,
          lot_size: 1,
          min_qty: 1,
          max_qty: 100_000,
          price_band_bps: 0,
          collar_bps: 1_000,
          reference_price: MID,
        });
        expect(listed).toMatchObject({ kind: 'answer', status: 201 });
      }

    // three accounts per risk shard, each with cash and shares of both symbols, at its own shard
    const accounts = namesByShard('acct', 3, (a) => riskShardOf(a, LAYOUT)).flat();
    const shardOf = (a: string) => riskShardOf(a, LAYOUT);
    for (const account of accounts) {
      const base = leaders[shardOf(account)]!.url;
      expect(await send(base, 'POST', `/accounts/${account}/deposits`, { amount: CASH })).toMatchObject({
        status: 201,
      });
      for (const symbol of symbols)
        expect(
          await send(base, 'POST', `/accounts/${account}/share-transfers`, {
            symbol,
            qty: SHARES,
            cost: SHARES * MID,
          }),
        ).toMatchObject({ status: 201 });
      // an account of the other shard is refused there, naming its shard
      const other = await send(leaders[1 - shardOf(account)]!.url, 'GET', `/accounts/${account}`);
      expect(other).toMatchObject({ kind: 'answer', status: 421 });
    }

    // --- closed-loop client streams; kill -9 of shard 1's leader mid-stream -----------------------
    const acks: { id: number; shard: number; sent: number; at: number }[] = [];
    const unknown: string[] = [];
    const refusals: Record<string, number> = {};
    let resends = 0;
    let replayed = 0;
    let stop = false;
    const sentCount: number[] = [];
    const streamOf = async (k: number) => {
      const random = prng(100 + k);
      while (!stop) {
        const account = accounts[Math.floor(random() * accounts.length)]!;
        const shard = shardOf(account);
        const side = random() < 0.5 ? 'buy' : 'sell';
        // around the mid, crossing about half the time: many trades, most of them across shards
        const away = Math.floor(random() * 6) - 2;
        const sent = performance.now();
        const out = await toShard(shards, current, shard, 'POST', `/accounts/${account}/orders`, {
          client_order_id: `s${k}-${(sentCount[k] = (sentCount[k] ?? 0) + 1)}`,
          symbol: symbols[Math.floor(random() * symbols.length)],
          side,
          type: 'limit',
          time_in_force: 'gtc',
          qty: 1 + Math.floor(random() * 5),
          limit_price: side === 'buy' ? MID - away : MID + away,
        });
        resends += out.resent;
        if (out.kind === 'unknown') unknown.push(`${shard}: ${out.error}`);
        else if (out.kind === 'answer' && (out.status === 201 || out.status === 200)) {
          // 200: a resend after a cut connection, answered with the order it had placed
          if (out.status === 200) replayed++;
          acks.push({ id: out.body.id as number, shard, sent, at: performance.now() });
        } else {
          const key = out.kind === 'answer' ? `${out.status} ${String(out.body.type ?? '')}` : out.kind;
          refusals[key] = (refusals[key] ?? 0) + 1;
        }
      }
    };
    const streams = Array.from({ length: STREAMS }, (_, k) => streamOf(k));
    await until(
      'acknowledgements before the kill',
      async () => acks.filter((a) => a.shard === 1).length >= 150,
    );
    const killedAt = performance.now();
    leaders[1]!.child.process.kill('SIGKILL');
    const ackedBefore = acks.length;
    await until(
      'the standby of shard 1 to lead',
      async () => {
        const r = await readyz(standbys[1]!);
        return r.status === 200 && r.role === 'leader';
      },
      standbys[1]!.child,
    );
    await until('acknowledgements from the new leader', async () =>
      acks.some((a) => a.shard === 1 && a.sent > killedAt),
    );
    const first = acks.find((a) => a.shard === 1 && a.sent > killedAt)!;
    await until('more orders after the takeover', async () => acks.length >= ackedBefore + 300);
    stop = true;
    await Promise.all(streams);
    console.log(
      `orders shard failover (kill -9 of shard 1's leader → the answer to the first order for shard 1 sent after it and acknowledged; processes, lease ${LEASE_MS} ms): ` +
        `${(first.at - killedAt).toFixed(0)} ms; ${acks.length} orders acknowledged (${ackedBefore} before the kill), ` +
        `${resends} sent again (refused, not-leader or cut), ${unknownSeen.length} connections cut mid-request${unknownSeen.length ? ` (${[...new Set(unknownSeen)].join(', ')})` : ''}, ` +
        `${replayed} answered from the client-order-id window, ${unknown.length} outcomes left unknown, ` +
        `other answers ${JSON.stringify(refusals)}`,
    );
    expect((await readyz(standbys[1]!)).role).toBe('leader');
    expect(leaders[0]!.child.process.exitCode).toBeNull();

    // --- quiet: every leader's outbox on the bus, no journal moving for longer than a redelivery --
    const now = [leaders[0]!, standbys[1]!];
    let last = '';
    let since = Date.now();
    await until('the shards to go quiet', async () => {
      const status = await Promise.all(
        now.map(async (l) => {
          const out = await send(l.url, 'GET', '/status');
          if (out.kind !== 'answer' || out.status !== 200) throw new Error('no status');
          return out.body as { role: string; seq: number; unpublished: number };
        }),
      );
      const seen = JSON.stringify(status);
      if (seen !== last || status.some((s) => s.unpublished !== 0 || s.role !== 'leader')) {
        last = seen;
        since = Date.now();
        return false;
      }
      return Date.now() - since >= 2500;
    });

    // every acknowledged order is journaled at its shard, and no id was acknowledged twice
    const ids = acks.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    const { rows } = await db.query<{ shard: number; id: number }>(
      `SELECT shard, (input->'command'->>'id')::bigint AS id FROM shard_journal
        WHERE input->>'kind' = 'command' AND input->'command'->>'type' = 'new_order'`,
    );
    const journaled = new Set(rows.map((r) => `${r.shard}:${Number(r.id)}`));
    expect(acks.filter((a) => !journaled.has(`${a.shard}:${a.id}`))).toEqual([]);
    // every outcome was learnt (a cut connection resent with its client order id), and no client order
    // id was placed twice: a resend of a placed order is answered, not journaled again
    expect(unknown).toEqual([]);
    const { rows: twice } = await db.query<{ key: string }>(
      `SELECT input->>'key' AS key FROM shard_journal
        WHERE input->>'kind' = 'command' AND input->'command'->>'type' = 'new_order'
        GROUP BY shard, input->>'key' HAVING count(*) > 1`,
    );
    expect(twice).toEqual([]);

    // conservation over every account, each read at its shard's leader
    let cash = 0;
    let fees = 0;
    const shares = new Map<string, number>();
    const add = (s: string, q: number) => shares.set(s, (shares.get(s) ?? 0) + q);
    for (const account of [...accounts, DEFAULT_EXCHANGE_CONFIG.feeAccount]) {
      const out = await send(now[shardOf(account)]!.url, 'GET', `/accounts/${account}`);
      expect(out).toMatchObject({ kind: 'answer', status: 200 });
      const view = (out as { body: Record<string, unknown> }).body as {
        cash: number;
        pending: number;
        positions: { symbol: string; qty: number }[];
        kept: { shares: { symbol: string; qty: number }[] }[];
      };
      expect(view.pending).toBe(0);
      cash += view.cash;
      if (account === DEFAULT_EXCHANGE_CONFIG.feeAccount) fees = view.cash;
      for (const p of view.positions) add(p.symbol, p.qty);
      for (const k of view.kept) for (const s of k.shares) add(s.symbol, s.qty);
    }
    expect(cash).toBe(CASH * accounts.length);
    expect(fees).toBeGreaterThan(0); // trades happened (and their fees reached the fee account's shard)
    for (const symbol of symbols) expect(shares.get(symbol)).toBe(SHARES * accounts.length);
  });
});

/**
 * Orders shard nodes as real processes (issue 11): `bourse start --role orders-shard`, two shards,
 * on one PostgreSQL database and the machine's NATS JetStream (a stream and subject prefix of each
 * run's own), lease 1 s.
 *
 *   Two symbols, one per matching shard, listed on both leaders; accounts funded at their own risk
 *   shard; a few closed-loop client streams send orders that trade across the shards, each to the
 *   instance of its account's shard that answered last. A client sends a request again to the
 *   shard's other instance when it was not executed (connection refused, 503 not-leader), and also
 *   when its outcome is unknown (a connection cut mid-request, no answer in time): every order
 *   carries a client order id, so a resend of one that was placed gets the original answer (200),
 *   never a second order.
 *
 *   kill -9: 2 × (leader + standby). Mid-stream, kill -9 of shard 1's leader: its standby takes over
 *   (/readyz turns 200, role header leader).
 *
 *   SIGSTOP: shard 0's leader, shard 1's leader + standby. Mid-stream, shard 1's leader is paused
 *   past its lease: its standby takes over and acknowledges orders; an order is sent to the paused
 *   one meanwhile (it waits in its socket). Once quiet, SIGCONT: the old leader finds itself fenced
 *   (/healthz 503 fenced), answers that order and any other 503 not-leader, and writes nothing: the
 *   journal, the read tables, the outbox marks and the snapshots are what they were before it
 *   resumed.
 *
 *   Both, once quiet (every leader's outbox handed to the bus, no journal moving): every acknowledged
 *   order id is in shard_journal, no id was acknowledged twice, no client order id journaled twice,
 *   each shard's journal numbered 1… without a gap, cash over every account (the fee account's
 *   included) equals the deposits and the shares of each symbol what was transferred. The time from
 *   the kill (or the pause) to the first acknowledgement from the shard's standby is printed, not
 *   asserted.
 */
import { expect, it, onTestFinished, vi } from 'vitest';
import { matchingShardOf, riskShardOf, type ShardLayout } from '../../src/engine/shards/layout.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { openPostgres } from '../../src/platform/db/postgres.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { FORWARDED_HEADERS } from '../../src/platform/http/forwarded-identity.ts';
import { problemType } from '../../src/platform/http/problem.ts';
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
/** How long a client waits for an answer before it takes the outcome as unknown (and resends). */
const ANSWER_WAIT_MS = 20_000;
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

async function send(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  waitMs = ANSWER_WAIT_MS,
): Promise<Outcome> {
  try {
    const res = await fetch(`${url}${SHARD_PREFIX}${path}`, {
      method,
      headers: { ...HEADERS, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(waitMs),
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
    return { kind: 'unknown', error: String(cause?.code ?? (err as Error).name) };
  }
}

/** A client of the shards: which instance of each answered last, how long it waits for an answer. */
interface Client {
  shards: Instance[][];
  current: number[];
  waitMs: number;
  /** outcomes learnt unknown mid-request (each resent when the request carried a client order id) */
  cut: string[];
}

/**
 * An answer from whichever of the shard's instances leads, with the ones not executed sent again;
 * `by`: the instance (its index in the shard) that gave it.
 */
async function toShard(
  client: Client,
  shard: number,
  method: string,
  path: string,
  body?: unknown,
): Promise<Outcome & { resent: number; by: number }> {
  const deadline = Date.now() + 60_000;
  for (let resent = 0; ; resent++) {
    const instances = client.shards[shard]!;
    const at = client.current[shard]!;
    const outcome = await send(instances[at]!.url, method, path, body, client.waitMs);
    const notLeader = outcome.kind === 'answer' && outcome.status === 503 && outcome.role !== null;
    // an unknown outcome is safe to resend only with a client order id (answered, not placed again)
    const keyed = typeof body === 'object' && body !== null && 'client_order_id' in body;
    const again = outcome.kind === 'refused' || notLeader || (outcome.kind === 'unknown' && keyed);
    if (outcome.kind === 'unknown') client.cut.push(outcome.error);
    if (!again || Date.now() > deadline) return { ...outcome, resent, by: at };
    if (client.current[shard] === at) client.current[shard] = (at + 1) % instances.length;
    await sleep(Math.min(100, 5 * 2 ** Math.min(resent, 5)));
  }
}

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

const shardOf = (account: string) => riskShardOf(account, LAYOUT);
let runs = 0;

interface Shards {
  db: Db;
  /** each shard's instances, its first leader first */
  shards: Instance[][];
  symbols: string[];
  accounts: string[];
}

/**
 * Shard nodes as processes, each shard's leader and (where `standby[k]`) its standby, on a database
 * and a stream of their own (gone after the test); instruments listed and accounts funded.
 */
async function startShards(standby: readonly boolean[]): Promise<Shards> {
  const database = await createTestDatabase(serviceUrl('postgres'));
  const natsUrl = serviceUrl('nats');
  const id = `${Math.floor(Date.now() / 1000)}_${process.pid}_shards${runs++}`;
  const stream = `${STREAM_PREFIX}${id}`;
  const children: Child[] = [];
  onTestFinished(async () => {
    for (const c of children)
      if (c.process.exitCode === null && c.process.signalCode === null) {
        c.process.kill('SIGCONT');
        c.process.kill('SIGKILL');
      }
    await Promise.all(children.map((c) => c.exited));
    await database.drop();
    await deleteStreams(natsUrl, ofStream(stream));
  });
  const db = await openPostgres({ connectionString: database.url, max: 2 });
  onTestFinished(() => db.close());
  await migrate(db); // once, before the processes start at the same time

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
  const standbys = await Promise.all(
    standby.map((on, k) => (on ? start(k, `shard-${k}b`) : Promise.resolve(null))),
  );
  for (const s of standbys) if (s) expect(await readyz(s)).toEqual({ status: 503, role: 'standby' });
  const shards = leaders.map((l, k) => [l, ...(standbys[k] ? [standbys[k]] : [])]);

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
  const accounts = namesByShard('acct', 3, shardOf).flat();
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
  return { db, shards, symbols, accounts };
}

interface Ack {
  id: number;
  shard: number;
  /** the instance of the shard that acknowledged it */
  by: number;
  sent: number;
  at: number;
}

/** Closed-loop client streams sending orders that trade across the shards, until stopped. */
function orderStreams(s: Shards, client: Client) {
  const acks: Ack[] = [];
  const unknown: string[] = [];
  const refusals: Record<string, number> = {};
  const counts = { resends: 0, replayed: 0 };
  let stopped = false;
  const sentCount: number[] = [];
  const streamOf = async (k: number) => {
    const random = prng(100 + k);
    while (!stopped) {
      const account = s.accounts[Math.floor(random() * s.accounts.length)]!;
      const shard = shardOf(account);
      const side = random() < 0.5 ? 'buy' : 'sell';
      // around the mid, crossing about half the time: many trades, most of them across shards
      const away = Math.floor(random() * 6) - 2;
      const sent = performance.now();
      const out = await toShard(client, shard, 'POST', `/accounts/${account}/orders`, {
        client_order_id: `s${k}-${(sentCount[k] = (sentCount[k] ?? 0) + 1)}`,
        symbol: s.symbols[Math.floor(random() * s.symbols.length)],
        side,
        type: 'limit',
        time_in_force: 'gtc',
        qty: 1 + Math.floor(random() * 5),
        limit_price: side === 'buy' ? MID - away : MID + away,
      });
      counts.resends += out.resent;
      if (out.kind === 'unknown') unknown.push(`${shard}: ${out.error}`);
      else if (out.kind === 'answer' && (out.status === 201 || out.status === 200)) {
        // 200: a resend after a cut connection, answered with the order it had placed
        if (out.status === 200) counts.replayed++;
        acks.push({ id: out.body.id as number, shard, by: out.by, sent, at: performance.now() });
      } else {
        const key = out.kind === 'answer' ? `${out.status} ${String(out.body.type ?? '')}` : out.kind;
        refusals[key] = (refusals[key] ?? 0) + 1;
      }
    }
  };
  const running = Array.from({ length: STREAMS }, (_, k) => streamOf(k));
  return {
    acks,
    unknown,
    refusals,
    counts,
    async stop() {
      stopped = true;
      await Promise.all(running);
    },
    summary: () =>
      `${acks.length} orders acknowledged, ${counts.resends} sent again (refused, not-leader or no answer), ` +
      `${client.cut.length} answers lost mid-request${client.cut.length ? ` (${[...new Set(client.cut)].join(', ')})` : ''}, ` +
      `${counts.replayed} answered from the client-order-id window, ${unknown.length} outcomes left unknown, ` +
      `other answers ${JSON.stringify(refusals)}`,
  };
}

/** Until every leader's outbox is on the bus and no journal moved for longer than a redelivery. */
async function untilQuiet(leaders: Instance[]): Promise<void> {
  let last = '';
  let since = Date.now();
  await until('the shards to go quiet', async () => {
    const status = await Promise.all(
      leaders.map(async (l) => {
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
}

/**
 * Every acknowledged order is journaled at its shard once, every outcome was learnt, no client order
 * id was placed twice, and each shard's journal is numbered 1… with no gap.
 */
async function expectJournaled(db: Db, acks: Ack[], unknown: string[]): Promise<void> {
  const ids = acks.map((a) => a.id);
  expect(new Set(ids).size).toBe(ids.length);
  const { rows } = await db.query<{ shard: number; id: number }>(
    `SELECT shard, (input->'command'->>'id')::bigint AS id FROM shard_journal
      WHERE input->>'kind' = 'command' AND input->'command'->>'type' = 'new_order'`,
  );
  const journaled = new Set(rows.map((r) => `${r.shard}:${Number(r.id)}`));
  expect(acks.filter((a) => !journaled.has(`${a.shard}:${a.id}`))).toEqual([]);
  // a cut connection was resent with its client order id; a resend of a placed order is answered,
  // not journaled again
  expect(unknown).toEqual([]);
  const { rows: twice } = await db.query<{ key: string }>(
    `SELECT input->>'key' AS key FROM shard_journal
      WHERE input->>'kind' = 'command' AND input->'command'->>'type' = 'new_order'
      GROUP BY shard, input->>'key' HAVING count(*) > 1`,
  );
  expect(twice).toEqual([]);
  const { rows: numbering } = await db.query<{ shard: number; first: number; last: number; n: number }>(
    'SELECT shard, min(seq)::int8 AS first, max(seq)::int8 AS last, count(*)::int8 AS n FROM shard_journal GROUP BY shard ORDER BY shard',
  );
  expect(numbering).toEqual(numbering.map((r) => ({ ...r, first: 1, n: r.last })));
}

/** Cash over every account (the fee account's included) and each symbol's shares, read at the leaders. */
async function expectConserved(s: Shards, leaders: Instance[]): Promise<void> {
  let cash = 0;
  let fees = 0;
  const shares = new Map<string, number>();
  const add = (symbol: string, q: number) => shares.set(symbol, (shares.get(symbol) ?? 0) + q);
  for (const account of [...s.accounts, DEFAULT_EXCHANGE_CONFIG.feeAccount]) {
    const out = await send(leaders[shardOf(account)]!.url, 'GET', `/accounts/${account}`);
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
    for (const k of view.kept) for (const x of k.shares) add(x.symbol, x.qty);
  }
  expect(cash).toBe(CASH * s.accounts.length);
  expect(fees).toBeGreaterThan(0); // trades happened (and their fees reached the fee account's shard)
  for (const symbol of s.symbols) expect(shares.get(symbol)).toBe(SHARES * s.accounts.length);
}

/** What the shard nodes wrote: every row of the journal, its marks, snapshots, leases and read tables. */
async function written(db: Db): Promise<Record<string, string>> {
  const tables = [
    'shard_journal',
    'shard_outbox',
    'shard_snapshots',
    'orders_leader',
    'orders',
    'trades',
    'accounts',
    'positions',
    'cash_movements',
    'share_movements',
    'instruments',
  ];
  const out: Record<string, string> = {};
  for (const table of tables) {
    const { rows } = await db.query<{ n: number; digest: string | null }>(
      `SELECT count(*)::int8 AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest FROM ${table} t`,
    );
    out[table] = `${rows[0]!.n} ${rows[0]!.digest}`;
  }
  return out;
}

describeWith(['postgres', 'nats'], 'orders shard nodes as processes', () => {
  it('2 shards × (leader + standby): orders across shards, kill -9 of a leader mid-stream, nothing acknowledged lost, cash and shares conserved', async () => {
    const s = await startShards([true, true]);
    const [leaders, standbys] = [s.shards.map((i) => i[0]!), s.shards.map((i) => i[1]!)];
    const client: Client = { shards: s.shards, current: [0, 0], waitMs: ANSWER_WAIT_MS, cut: [] };

    // --- closed-loop client streams; kill -9 of shard 1's leader mid-stream -----------------------
    const orders = orderStreams(s, client);
    const { acks } = orders;
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
    await orders.stop();
    console.log(
      `orders shard failover (kill -9 of shard 1's leader → the answer to the first order for shard 1 sent after it and acknowledged; processes, lease ${LEASE_MS} ms): ` +
        `${(first.at - killedAt).toFixed(0)} ms; ${ackedBefore} acknowledged before the kill; ${orders.summary()}`,
    );
    expect((await readyz(standbys[1]!)).role).toBe('leader');
    expect(leaders[0]!.child.process.exitCode).toBeNull();

    const now = [leaders[0]!, standbys[1]!];
    await untilQuiet(now);
    await expectJournaled(s.db, acks, orders.unknown);
    await expectConserved(s, now);
  });

  it("shard 1's leader paused (SIGSTOP) past its lease: the standby takes over; resumed (SIGCONT), it is fenced and writes nothing", async () => {
    const s = await startShards([false, true]);
    const [leader0, old, standby] = [s.shards[0]![0]!, s.shards[1]![0]!, s.shards[1]![1]!];
    // a request to a paused leader gets no answer: the client gives up after twice the lease (not
    // 20 s) and sends it again, with its client order id, to the other instance
    const client: Client = { shards: s.shards, current: [0, 0], waitMs: 2 * LEASE_MS, cut: [] };
    const orders = orderStreams(s, client);
    const { acks } = orders;
    await until(
      'acknowledgements before the pause',
      async () => acks.filter((a) => a.shard === 1).length >= 100,
    );

    const stoppedAt = performance.now();
    old.child.process.kill('SIGSTOP');
    const ackedBefore = acks.length;
    // an order to the paused leader: it waits in its socket until SIGCONT (never sent elsewhere)
    const probeKey = 'sent-to-the-paused-leader';
    const probe = send(
      old.url,
      'POST',
      `/accounts/${s.accounts.find((a) => shardOf(a) === 1)!}/orders`,
      {
        client_order_id: probeKey,
        symbol: s.symbols[0],
        side: 'buy',
        type: 'limit',
        time_in_force: 'gtc',
        qty: 1,
        limit_price: MID - 50,
      },
      120_000,
    );
    await until(
      'the standby of shard 1 to lead',
      async () => {
        const r = await readyz(standby);
        return r.status === 200 && r.role === 'leader';
      },
      standby.child,
    );
    const ledAt = performance.now();
    await until('acknowledgements from the standby', async () =>
      acks.some((a) => a.shard === 1 && a.by === 1),
    );
    const first = acks.find((a) => a.shard === 1 && a.by === 1)!;
    await until(
      'more orders after the takeover',
      async () => acks.filter((a) => a.shard === 1 && a.by === 1).length >= 100,
    );
    await orders.stop();
    console.log(
      `orders shard takeover (SIGSTOP of shard 1's leader → the first order acknowledged by its standby; processes, lease ${LEASE_MS} ms, clients give up on an answer after ${client.waitMs} ms): ` +
        `${(first.at - stoppedAt).toFixed(0)} ms (its /readyz said leader after ${(ledAt - stoppedAt).toFixed(0)} ms); ${ackedBefore} acknowledged before the pause; ${orders.summary()}`,
    );

    // --- quiet with the old leader still paused; then SIGCONT ------------------------------------
    const now = [leader0, standby];
    await untilQuiet(now);
    const before = await written(s.db);
    const { rows: lease } = await s.db.query<{ epoch: number; holder: string }>(
      'SELECT epoch::int8 AS epoch, holder FROM orders_leader WHERE shard = 1',
    );
    expect(lease).toEqual([{ epoch: 2, holder: standby.name }]);
    old.child.process.kill('SIGCONT');
    // it finds its session ended (or its next commit refused): fenced; liveness fails so it is restarted
    await until(
      'the old leader to report itself fenced',
      async () => {
        const res = await fetch(`${old.url}/healthz`, { signal: AbortSignal.timeout(2000) });
        const body = (await res.json()) as { status?: string };
        return res.status === 503 && body.status === 'fenced';
      },
      old.child,
    );
    // the order it held while paused: refused, nothing executed; and so is any other
    const held = await probe;
    expect(held).toMatchObject({
      kind: 'answer',
      status: 503,
      role: 'fenced',
      body: { type: problemType('not-leader') },
    });
    const after = await send(
      old.url,
      'POST',
      `/accounts/${s.accounts.find((a) => shardOf(a) === 1)!}/deposits`,
      {
        amount: 1,
      },
    );
    expect(after).toMatchObject({
      kind: 'answer',
      status: 503,
      role: 'fenced',
      body: { type: problemType('not-leader') },
    });
    // whatever it still had under way (its outbox, its projection) has settled
    await until('the old leader to settle', async () => {
      const out = await send(old.url, 'GET', '/status');
      return out.kind === 'answer' && out.body.role === 'fenced' && out.body.unpublished === 0;
    });
    await untilQuiet(now);
    // it wrote nothing: not a journal entry, a read-table row, a mark or a snapshot
    expect(await written(s.db)).toEqual(before);

    // the new leader still leads and acknowledges
    const last = await toShard(
      client,
      1,
      'POST',
      `/accounts/${s.accounts.find((a) => shardOf(a) === 1)!}/orders`,
      {
        client_order_id: 'after-the-resume',
        symbol: s.symbols[1],
        side: 'sell',
        type: 'limit',
        time_in_force: 'gtc',
        qty: 1,
        limit_price: MID + 50,
      },
    );
    expect(last).toMatchObject({ kind: 'answer', status: 201, by: 1 });
    acks.push({ id: last.kind === 'answer' ? (last.body.id as number) : 0, shard: 1, by: 1, sent: 0, at: 0 });
    await untilQuiet(now);
    await expectJournaled(s.db, acks, orders.unknown);
    const { rows: probed } = await s.db.query(`SELECT seq FROM shard_journal WHERE input->>'key' = $1`, [
      probeKey,
    ]);
    expect(probed).toEqual([]);
    await expectConserved(s, now);
  });
});

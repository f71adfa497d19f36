/**
 * `bourse cluster --shards 2` for real (issue 11): 3 NATS nodes, 2 orders shard nodes × 2 replicas
 * (`--role orders-shard`, leader + standby each) and the other 7 processes, on PostgreSQL and Redis.
 * Instruments, funding and orders go through the gateways (the gateways' sharded orders client):
 * accounts on both risk shards trade symbols on both matching shards, so orders cross shards both
 * ways. Then kill -9 of one shard's leader while orders stream through both gateways: its standby
 * takes over, every acknowledged order is there afterwards, and cash and shares are conserved across
 * the shards. Durations are printed, not asserted.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { UNLIMITED_RATES } from '../../bench/lib/api.ts';
import { type RunningCluster, startCluster } from '../../src/cli/cluster-launch.ts';
import { DEFAULT_SHAPE } from '../../src/cli/cluster-plan.ts';
import { matchingShardOf, riskShardOf, type ShardLayout } from '../../src/engine/shards/layout.ts';
import { internalTokenHeader } from '../../src/platform/http/forwarded-identity.ts';
import { DEFAULT_EXCHANGE_CONFIG } from '../../src/services/orders/index.ts';
import { SHARD_PREFIX } from '../../src/services/orders/shards/routes.ts';
import { deriveKeys } from '../../src/services/users/secret.ts';
import { describeWithNatsServer } from '../support/nats-cluster.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { describeWith, serviceUrl } from '../support/services.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 400_000 });

const LAYOUT: ShardLayout = { riskShards: 2, matchingShards: 2 };
const ADMIN_PASSWORD = 'cluster shards operator pass phrase';
const PASSWORD = 'correct horse battery staple';
const CASH_CENTS = 100_000_000; // $1 M per account
const SHARES = 10_000; // of each symbol, per seller
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface User {
  id: string;
  auth: Record<string, string>;
  shard: number;
}

async function call(base: string, method: string, path: string, body?: unknown, headers = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Symbol names of the given matching shard (the layout's hash decides). */
function symbolOn(shard: number, prefix: string): string {
  for (let k = 0; ; k++) {
    const symbol = `${prefix}${String.fromCharCode(65 + (k % 26))}${String.fromCharCode(65 + Math.floor(k / 26))}`;
    if (matchingShardOf(symbol, LAYOUT) === shard) return symbol;
  }
}

/** A risk shard's account as its leader holds it (the shard door, with the internal token). */
interface AccountView {
  cash: number;
  pending: number;
  kept: { shard: number; cash: number; shares: { symbol: string; qty: number }[] }[];
  positions: { symbol: string; qty: number }[];
  open_orders: unknown[];
}

describeWith(['postgres', 'redis'], 'bourse cluster --shards 2', () => {
  describeWithNatsServer('bourse cluster --shards 2 (local processes)', () => {
    let database: TestDatabase | undefined;
    let cluster: RunningCluster | undefined;
    let admin: Record<string, string> = {};
    const users: User[] = [];
    // one symbol on each matching shard
    const symbols = [symbolOn(0, 'SH'), symbolOn(1, 'SH')] as const;
    const deposited = { cash: 0, shares: new Map<string, number>() };

    const gateways = () => cluster!.gateways as [string, string];
    const internal = () => internalTokenHeader(deriveKeys(cluster!.secret).internalToken);

    /** each shard's account views from its current leader (waits for every shard to have one) */
    async function accountViews(ids: readonly string[]): Promise<Map<string, AccountView | null>> {
      let leaders = await cluster!.ordersLeaders();
      await until('every shard to have a leader', async () => {
        leaders = await cluster!.ordersLeaders();
        return leaders.size === LAYOUT.riskShards;
      });
      const views = new Map<string, AccountView | null>();
      for (const id of ids) {
        const leader = leaders.get(riskShardOf(id, LAYOUT))!;
        const res = await call(
          leader.url,
          'GET',
          `${SHARD_PREFIX}/accounts/${encodeURIComponent(id)}`,
          undefined,
          internal(),
        );
        if (res.status === 404) views.set(id, null);
        else {
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          views.set(id, res.body as unknown as AccountView);
        }
      }
      return views;
    }

    beforeAll(async () => {
      database = await createTestDatabase(serviceUrl('postgres'));
      cluster = await startCluster({
        databaseUrl: database.url,
        redisUrl: serviceUrl('redis'),
        shape: { ...DEFAULT_SHAPE, shards: 2 },
        env: { LOG_LEVEL: 'warn', BOURSE_ADMIN_PASSWORD: ADMIN_PASSWORD, ...UNLIMITED_RATES },
      });
      console.log(`cluster (2 shards) up in ${cluster.startMs} ms`);
      const memory = await cluster.memory();
      console.log(
        `resident memory (MB): ${memory.map((p) => `${p.name} ${p.rssMb}`).join(', ')}; total ${memory.reduce((s, p) => s + (p.rssMb ?? 0), 0)}`,
      );
      const [gw1, gw2] = gateways();
      const login = await call(gw1, 'POST', '/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
      expect(login.status, JSON.stringify(login.body)).toBe(200);
      admin = { authorization: `Bearer ${login.body.access_token as string}` };

      // listed through gateway 1: both shards get the instrument (administration goes to every shard)
      for (const symbol of symbols) {
        const listed = await call(
          gw1,
          'POST',
          '/v1/admin/instruments',
          { symbol, reference_price: '100.00', price_band_pct: 20, collar_pct: 20 },
          admin,
        );
        expect(listed.status, JSON.stringify(listed.body)).toBe(201);
      }
      // investors through both gateways until each risk shard has two of them
      const run = Date.now().toString(36);
      for (
        let k = 0;
        users.filter((u) => u.shard === 0).length < 2 || users.filter((u) => u.shard === 1).length < 2;
        k++
      ) {
        if (k >= 40) throw new Error('40 registrations and still not two accounts on each risk shard');
        const via = k % 2 === 0 ? gw1 : gw2;
        const username = `sh${run}${k}`;
        const reg = await call(via, 'POST', '/users', {
          username,
          email: `${username}@example.com`,
          password: PASSWORD,
        });
        expect(reg.status, JSON.stringify(reg.body)).toBe(201);
        const shard = riskShardOf(reg.body.id as string, LAYOUT);
        if (users.filter((u) => u.shard === shard).length >= 2) continue;
        const token = await call(via, 'POST', '/auth/login', { username, password: PASSWORD });
        expect(token.status, JSON.stringify(token.body)).toBe(200);
        users.push({
          id: reg.body.id as string,
          shard,
          auth: { authorization: `Bearer ${token.body.access_token as string}` },
        });
      }
      // funding through the gateways: cash for all, shares of both symbols for every account
      for (const [k, u] of users.entries()) {
        const via = k % 2 === 0 ? gw1 : gw2;
        const dep = await call(
          via,
          'POST',
          '/v1/admin/funding',
          {
            account_id: u.id,
            direction: 'deposit',
            amount: (CASH_CENTS / 100).toFixed(2),
            idempotency_key: `dep-${u.id}`,
          },
          admin,
        );
        expect(dep.status, JSON.stringify(dep.body)).toBeLessThan(300);
        deposited.cash += CASH_CENTS;
        for (const symbol of symbols) {
          const moved = await call(
            via,
            'POST',
            '/v1/admin/transfers',
            { account_id: u.id, symbol, qty: SHARES, cost: '100.00' },
            admin,
          );
          expect(moved.status, JSON.stringify(moved.body)).toBeLessThan(300);
          deposited.shares.set(symbol, (deposited.shares.get(symbol) ?? 0) + SHARES);
        }
      }
    });

    afterAll(async () => {
      const stopping = Date.now();
      await cluster?.stop();
      console.log(`cluster stopped in ${Date.now() - stopping} ms`);
      await database?.drop();
    });

    it('/v1/admin/status shows each shard with its leader and its standby', async () => {
      const c = cluster!;
      const status = await call(gateways()[1], 'GET', '/v1/admin/status', undefined, admin);
      expect(status.status, JSON.stringify(status.body)).toBe(200);
      const orders = (
        status.body.cluster as { orders: { shards: Record<string, unknown>[]; unreachable: unknown[] } }
      ).orders;
      expect(orders.unreachable).toEqual([]);
      expect(orders.shards.map((s) => s.shard)).toEqual([0, 1]);
      for (const view of orders.shards) {
        const k = view.shard as number;
        const mine = c.processes.filter((p) => p.shard === k).map((p) => p.url);
        const leader = view.leader as { url: string; holder: string; epoch: number };
        const standbys = view.standbys as { url: string; holder: string; seq: number; lag: number }[];
        expect(mine).toContain(leader.url);
        expect(leader.holder).toBe(`orders-${k}a`);
        expect(leader.epoch).toBeGreaterThan(0);
        expect(standbys.map((s) => s.url)).toEqual(mine.filter((u) => u !== leader.url));
        expect(standbys.map((s) => s.holder)).toEqual([`orders-${k}b`]);
        // a standby following the leader's journal says how far it is (entries found new at its last read)
        for (const s of standbys) {
          expect(typeof s.seq).toBe('number');
          expect(typeof s.lag).toBe('number');
          expect(s.lag).toBeGreaterThanOrEqual(0);
        }
      }
    });

    it('trades across shards through both gateways: every risk shard with every matching shard', async () => {
      const [gw1, gw2] = gateways();
      const on = (shard: number) => users.filter((u) => u.shard === shard);
      // for each symbol (matching shard m) and each pair of risk shards (r buys, s sells): one trade
      const trades: { buy: string; sell: string; buyer: User; seller: User; symbol: string }[] = [];
      let n = 0;
      for (const symbol of symbols) {
        for (const [r, s] of [
          [0, 1],
          [1, 0],
          [0, 0],
          [1, 1],
        ] as const) {
          const buyer = on(r)[0]!;
          const seller = r === s ? on(s)[1]! : on(s)[0]!;
          const tag = `x${n++}${Date.now().toString(36)}`;
          const order = (u: User, side: string, via: string) =>
            call(
              via,
              'POST',
              '/v2/orders',
              {
                symbol,
                qty: '3',
                side,
                type: 'limit',
                time_in_force: 'day',
                limit_price: '100.00',
                client_order_id: `${side}-${tag}`,
              },
              u.auth,
            );
          const buy = await order(buyer, 'buy', gw1);
          expect(buy.status, JSON.stringify(buy.body)).toBe(200);
          const sell = await order(seller, 'sell', gw2);
          expect(sell.status, JSON.stringify(sell.body)).toBe(200);
          trades.push({ buy: buy.body.id as string, sell: sell.body.id as string, buyer, seller, symbol });
        }
      }
      const t0 = Date.now();
      // read back through the other gateway: both sides filled
      for (const t of trades) {
        for (const [id, u, via] of [
          [t.buy, t.buyer, gw2],
          [t.sell, t.seller, gw1],
        ] as const) {
          await until(`order ${id} of ${t.symbol} filled`, async () => {
            const o = await call(via, 'GET', `/v2/orders/${id}`, undefined, u.auth);
            return o.status === 200 && o.body.status === 'filled';
          });
        }
      }
      console.log(
        `${trades.length} cross-shard trades filled on both sides, read back within ${Date.now() - t0} ms`,
      );
      // what the public API says an account holds is what its risk shard holds
      const views = await accountViews(users.map((u) => u.id));
      for (const u of users) {
        const positions = await call(gw1, 'GET', '/v2/positions', undefined, u.auth);
        expect(positions.status, JSON.stringify(positions.body)).toBe(200);
        const qty = Object.fromEntries(
          (positions.body as unknown as { symbol: string; qty: string }[]).map((p) => [
            p.symbol,
            Number(p.qty),
          ]),
        );
        const held = Object.fromEntries(views.get(u.id)!.positions.map((p) => [p.symbol, p.qty]));
        expect(qty, u.id).toEqual(held);
      }
    });

    it('kill -9 of a shard leader under load: its standby leads, no acknowledged order lost, cash and shares conserved', async () => {
      const c = cluster!;
      const [gw1, gw2] = gateways();
      const leaders = await c.ordersLeaders();
      const victim = leaders.get(1)!;
      const standby = c.processes.find((p) => p.shard === 1 && p.name !== victim.name)!;
      const run = Date.now().toString(36);
      interface Sent {
        id: string;
        user: User;
        shard: number;
        sentAt: number;
        ackedAt?: number;
        status?: number;
      }
      const sent: Sent[] = [];
      let killedAt = 0;
      let stop = false;
      // 4 closed-loop streams, 2 per gateway, over all accounts (both risk shards) and both symbols;
      // an answer that is not 200 (the takeover) is sent again with the same client_order_id
      const stream = async (w: number) => {
        const via = w % 2 === 0 ? gw1 : gw2;
        for (let i = 0; !stop; i++) {
          const user = users[(w + i) % users.length]!;
          const symbol = symbols[i % 2]!;
          const side = (w + i) % 2 === 0 ? 'buy' : 'sell';
          const one: Sent = { id: `fo-${run}-${w}-${i}`, user, shard: user.shard, sentAt: Date.now() };
          sent.push(one);
          for (let attempt = 0; attempt < 20; attempt++) {
            const res = await call(
              via,
              'POST',
              '/v2/orders',
              {
                symbol,
                qty: '1',
                side,
                type: 'limit',
                time_in_force: 'day',
                limit_price: '100.00',
                client_order_id: one.id,
              },
              user.auth,
            ).catch(() => ({ status: 0, body: {} }));
            one.status = res.status;
            if (res.status === 200) {
              one.ackedAt = Date.now();
              break;
            }
            if (res.status < 500 && res.status !== 0 && res.status !== 429) break;
            await sleep(100);
          }
        }
      };
      const streams = [0, 1, 2, 3].map(stream);
      await until('orders acknowledged on both shards before the kill', () =>
        [0, 1].every((k) => sent.filter((s) => s.shard === k && s.ackedAt).length >= 10),
      );
      killedAt = Date.now();
      await c.kill(victim.name);
      console.log(`killed ${victim.name} (kill -9), the leader of shard 1`);
      await until(
        'orders sent after the kill acknowledged on shard 1',
        () => sent.filter((s) => s.shard === 1 && s.sentAt >= killedAt && s.ackedAt).length >= 20,
        90_000,
      );
      stop = true;
      await Promise.all(streams);

      const firstAfter = Math.min(
        ...sent.filter((s) => s.shard === 1 && s.sentAt >= killedAt && s.ackedAt).map((s) => s.ackedAt!),
      );
      const acked = sent.filter((s) => s.ackedAt);
      const refused = sent.filter((s) => !s.ackedAt);
      console.log(
        `kill -9 → first order acknowledged on shard 1: ${firstAfter - killedAt} ms; ${acked.length} of ${sent.length} ` +
          `orders acknowledged (${acked.filter((s) => s.shard === 1).length} on shard 1); not acknowledged: ` +
          `${JSON.stringify(refused.map((s) => s.status))}`,
      );
      expect((await c.ordersLeaders()).get(1)?.name).toBe(standby.name);

      // every acknowledged order is there, through either gateway
      for (const [k, s] of acked.entries()) {
        const via = k % 2 === 0 ? gw1 : gw2;
        await until(
          `acknowledged order ${s.id} to be found`,
          async () => {
            const o = await call(
              via,
              'GET',
              `/v2/orders:by_client_order_id?client_order_id=${s.id}`,
              undefined,
              s.user.auth,
            );
            return o.status === 200 && o.body.client_order_id === s.id;
          },
          30_000,
        );
      }

      // what rests is cancelled; once quiet, the risk shards hold everything: cash and shares conserved
      for (const u of users) {
        const res = await call(gw1, 'DELETE', '/v2/orders', undefined, u.auth);
        expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
      }
      const fees = DEFAULT_EXCHANGE_CONFIG.feeAccount;
      const ids = [...users.map((u) => u.id), fees];
      let views = new Map<string, AccountView | null>();
      await until('every order cancelled or filled and every holding home', async () => {
        views = await accountViews(ids);
        return users.every((u) => {
          const v = views.get(u.id)!;
          return v.open_orders.length === 0 && v.pending === 0 && v.kept.length === 0;
        });
      });
      const cash = [...views.values()].reduce((sum, v) => sum + (v?.cash ?? 0), 0);
      expect(cash).toBe(deposited.cash);
      expect(views.get(fees)?.cash ?? 0).toBeGreaterThan(0);
      for (const symbol of symbols) {
        const shares = [...views.values()].reduce(
          (sum, v) => sum + (v?.positions.find((p) => p.symbol === symbol)?.qty ?? 0),
          0,
        );
        expect(shares, symbol).toBe(deposited.shares.get(symbol));
      }
    });
  });
});

/**
 * Once-per-cluster market data on PostgreSQL (issue 11): two market-data instances on one
 * database elect a leader (an advisory lock of their own, leader.ts). Only the leader steps the
 * simulated feed (its ticks reach the other through md.sim.*), writes bars and publishes md.bar;
 * the follower serves the same trades. When the leader closes, or its lock session is killed (a
 * crash as the database sees it), the other takes over and the simulated market goes on from
 * where it was (sequences continue); the old one, if alive, follows.
 */
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { createMemoryBus } from '../../src/platform/bus/memory.ts';
import type { Bus } from '../../src/platform/bus/types.ts';
import { manualClock } from '../../src/platform/clock.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { mdSubjects } from '../../src/services/market-data/events.ts';
import { insertFeed } from '../../src/services/market-data/feeds/store.ts';
import { createMarketDataService, type MarketDataService } from '../../src/services/market-data/index.ts';
import { MARKET_DATA_LEADER_LOCK } from '../../src/services/market-data/leader.ts';
import type { FeedDefinition, Tick } from '../../src/services/market-data/model.ts';
import type { OrdersService } from '../../src/services/orders/index.ts';
import { startService } from '../orders/support/service.ts';
import { makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWithPostgres } from '../support/services.ts';
import { eventually, INTERNAL_TOKEN, logger, stubUsers, T0 } from './harness.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const SIM: FeedDefinition = {
  id: 'sim',
  kind: 'simulated',
  priority: 5,
  staleAfterMs: 60_000,
  enabled: true,
  config: { symbols: [{ symbol: 'SIMA', price: 50 }], ratePerSec: 50, seed: 11 },
};

describeWithPostgres('market data: one leader per cluster simulates and publishes bars', () => {
  const makeDb = scoped(makePostgresDb);
  let db: Db;
  let bus: Bus;
  let orders: OrdersService;
  let clock: ReturnType<typeof manualClock>;
  const open: MarketDataService[] = [];
  const sims: Tick[] = [];
  let bars = 0;

  const start = async (holder: string): Promise<MarketDataService> => {
    const md = await createMarketDataService({
      db,
      bus,
      clock,
      logger,
      orders: orders.client,
      users: stubUsers(new Map()),
      internalToken: INTERNAL_TOKEN,
      // a long lease: a loaded machine must not lapse it; closes and killed sessions pass it at once
      config: { timers: false, elect: { leaseMs: 5000, holder } },
    });
    open.push(md);
    return md;
  };
  const candles = async (): Promise<number> =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM md_candles')).rows[0]!.n;
  const tape = async (md: MarketDataService): Promise<number> =>
    (await md.client.trades('SIMA', { limit: 1000 })).trades.length;
  /** one step of the clock, then both instances' schedules and candle writes */
  const advance = async (ms: number, mds: MarketDataService[]) => {
    clock.advance(ms);
    for (const md of mds) await md.step();
    for (const md of mds) await md.flush();
  };

  beforeEach(async () => {
    db = await makeDb();
    bus = createMemoryBus({ logger });
    orders = await startService(db, {}, bus);
    clock = manualClock(T0);
    sims.length = 0;
    bars = 0;
    await insertFeed(db, SIM, T0);
    await bus.subscribe<Tick>(mdSubjects.allSim, (m) => void sims.push(m.data));
    await bus.subscribe(mdSubjects.allBars, () => void bars++);
  });
  afterEach(async () => {
    for (const md of open.splice(0)) await md.close();
    await orders.close();
    await bus.close();
  });

  it('only the leader steps the simulator and writes bars; when it closes the other takes over', async () => {
    const a = await start('md-a');
    const b = await start('md-b');
    expect(a.leader()).toMatchObject({ role: 'leader', epoch: 1 });
    expect(a.leader().holder).toBe('md-a');
    expect(b.leader()).toMatchObject({ role: 'follower', holder: 'md-b', epoch: 0 });
    expect((await db.query('SELECT epoch, holder FROM cluster_leaders')).rows).toEqual([
      { epoch: 1, holder: 'md-a' },
    ]);

    // the follower alone: no simulated tick (beyond the leader's first quote at start), no bar
    await eventually(() => expect(sims).toHaveLength(1));
    clock.advance(2_000);
    await b.step();
    await b.flush();
    expect(sims).toHaveLength(1);
    expect(await candles()).toBe(0);

    // the leader: ticks for everyone, bars written once
    for (let i = 0; i < 5; i++) await advance(30_000, [a, b]);
    expect(sims.length).toBeGreaterThan(100);
    const trades = sims.filter((t) => t.type === 'trade').length;
    expect(trades).toBeGreaterThan(0);
    expect(await candles()).toBeGreaterThan(0);
    expect(bars).toBeGreaterThan(0);
    // the follower has the leader's trades (its tape keeps the newest 1000)
    await eventually(async () => expect(await tape(b)).toBe(Math.min(1000, trades)));
    expect(await tape(a)).toBe(Math.min(1000, trades));

    const lastSeq = Math.max(...sims.filter((t) => t.type === 'quote').map((t) => t.seq));
    const before = sims.length;
    await a.close();
    await eventually(() => expect(b.leader()).toMatchObject({ role: 'leader', epoch: 2 }));
    await advance(2_000, [b]);
    // the bus delivers on a later tick: wait for the new leader's ticks rather than race them
    await eventually(() => expect(sims.length).toBeGreaterThan(before));
    const after = sims.slice(before);
    // the simulated market goes on from the last tick the follower saw, not from its seed
    expect(Math.min(...after.filter((t) => t.type === 'quote').map((t) => t.seq))).toBe(lastSeq + 1);
    expect((await db.query('SELECT epoch, holder FROM cluster_leaders')).rows).toEqual([
      { epoch: 2, holder: 'md-b' },
    ]);
  });

  it('a leader whose lock session dies (a crash) is replaced; it follows when it finds out', async () => {
    const a = await start('md-a');
    const b = await start('md-b');
    expect(a.leader().role).toBe('leader');
    await advance(1_000, [a, b]);
    const ended = await db.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_locks
        WHERE locktype = 'advisory' AND classid = $1 AND granted`,
      [MARKET_DATA_LEADER_LOCK],
    );
    expect(ended.rows).toEqual([{ ok: true }]);
    await eventually(() => expect(b.leader()).toMatchObject({ role: 'leader', epoch: 2 }), 2000);
    await eventually(() => expect(a.leader().role).toBe('follower'), 2000);

    const before = sims.length;
    const written = await candles();
    clock.advance(2_000);
    await a.step(); // a follows now: it steps nothing
    expect(sims.length).toBe(before);
    await advance(60_000, [b, a]);
    expect(sims.length).toBeGreaterThan(before);
    expect(await candles()).toBeGreaterThan(written);

    // and a stands by again: b closes, a leads
    await b.close();
    await eventually(() => expect(a.leader()).toMatchObject({ role: 'leader', epoch: 3 }), 2000);
  });
});

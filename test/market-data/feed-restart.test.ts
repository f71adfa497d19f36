/**
 * Feeds across a restart: the demo news wire is polled at the services' current address (the
 * internal port changes with every start, so the first poll after a restart must not go to the
 * old one), and our own exchange feed cannot be deleted.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { addDemoFeeds } from '../../src/cli/demo/feeds.ts';
import { NEWSROOM_PATH, registerNewsroom } from '../../src/cli/demo/newsroom.ts';
import { createMarketDataService } from '../../src/services/market-data/index.ts';
import { SYMBOL } from '../orders/support/service.ts';
import { forEachDb } from '../support/db.ts';
import {
  admin,
  expectProblem,
  INTERNAL_TOKEN,
  logger,
  type MdHarness,
  makeHarness,
  stubUsers,
  T0,
} from './harness.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

/** A stand-in for the services' own HTTP server: the demo newsroom on a fresh port. */
async function newsroom(): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false });
  registerNewsroom(app, { seed: 7, symbols: [SYMBOL], now: () => T0, everyMs: 60_000 });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${new URL(address).port}` };
}

forEachDb('market-data: feeds across a restart', (makeDb) => {
  let h: MdHarness;
  beforeAll(async () => {
    h = await makeHarness(await makeDb());
  });
  afterAll(async () => h?.close());

  it('polls the demo wire at the current address: the first poll after a restart succeeds', async () => {
    const before = await newsroom();
    const start = (url: string) =>
      createMarketDataService({
        db: h.db,
        bus: h.bus,
        clock: h.clock,
        logger,
        orders: h.orders.client,
        users: stubUsers(new Map()),
        internalToken: INTERNAL_TOKEN,
        config: { timers: false, localUrl: async () => url },
      });
    const first = await start(before.url);
    await addDemoFeeds(h.db, first, { newsPath: NEWSROOM_PATH, seed: 7, now: T0 });
    await first.step();
    const news = async () =>
      Number(
        (await h.db.query<{ n: string }>("SELECT count(*) AS n FROM md_news WHERE feed_id = 'demo-wire'"))
          .rows[0]!.n,
      );
    expect(await news()).toBeGreaterThan(0);
    await first.close();
    await before.app.close();

    // the restart: the services listen on another port, and nothing listens on the old one
    const after = await newsroom();
    expect(after.url).not.toBe(before.url);
    const stored = await h.db.query<{ config: { url: string } }>(
      "SELECT config FROM md_feeds WHERE id = 'demo-wire'",
    );
    expect(stored.rows[0]!.config.url).toBe(NEWSROOM_PATH);
    await h.db.query('DELETE FROM md_news');
    const second = await start(after.url);
    try {
      await second.step();
      expect(await news()).toBeGreaterThan(0);
    } finally {
      await second.close();
      await after.app.close();
    }
  });

  it('keeps the built-in exchange feed: deleting it is a 409, pausing works, and a start writes it if missing', async () => {
    const feedIds = async () =>
      (await h.db.query<{ id: string }>('SELECT id FROM md_feeds ORDER BY id')).rows.map((r) => r.id);
    const refused = await h.req({ method: 'DELETE', url: '/v1/market-data/feeds/exchange' }, admin);
    expectProblem(refused, 409);
    expect((refused.json() as { detail: string }).detail).toMatch(/enabled/);
    expect(await feedIds()).toContain('exchange');
    const paused = await h.req(
      { method: 'PATCH', url: '/v1/market-data/feeds/exchange', payload: { enabled: false } },
      admin,
    );
    expect(paused.statusCode, paused.body).toBe(200);
    await h.req(
      { method: 'PATCH', url: '/v1/market-data/feeds/exchange', payload: { enabled: true } },
      admin,
    );

    // removed behind the API's back (other feeds remain): the next start writes it again
    await h.db.query("DELETE FROM md_feeds WHERE id = 'exchange'");
    expect(await feedIds()).not.toContain('exchange');
    expect((await feedIds()).length).toBeGreaterThan(0);
    const restarted = await createMarketDataService({
      db: h.db,
      bus: h.bus,
      clock: h.clock,
      logger,
      orders: h.orders.client,
      users: stubUsers(new Map()),
      internalToken: INTERNAL_TOKEN,
      config: { timers: false },
    });
    await restarted.close();
    expect(await feedIds()).toContain('exchange');
  });
});

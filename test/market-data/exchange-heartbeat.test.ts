/**
 * The exchange feed's heartbeat: while nobody trades, the orders service publishes nothing, so
 * the feed asks it whether it is alive (exchangeStatus) on its own schedule; an unreachable
 * service turns the feed's health to error, a reachable one back to connected.
 */
import { afterEach, expect, it } from 'vitest';
import { createMemoryBus } from '../../src/platform/bus/memory.ts';
import { manualClock } from '../../src/platform/clock.ts';
import { createExchangeFeed } from '../../src/services/market-data/feeds/exchange.ts';
import type { Feed } from '../../src/services/market-data/feeds/types.ts';
import type { OrdersClient } from '../../src/services/orders/client.ts';
import { eventually, logger } from './harness.ts';

let feed: Feed | null = null;
afterEach(async () => {
  await feed?.stop();
  feed = null;
});

it('beats while the orders service answers, and reports an error while it does not', async () => {
  let up = true;
  const orders = {
    instruments: async () => [],
    exchangeStatus: async () => {
      if (!up) throw new Error('connection refused');
      return { session: 'open', marketHalted: false, lastSeq: 1 };
    },
  } as unknown as OrdersClient;
  const beats: string[] = [];
  feed = createExchangeFeed(
    { id: 'exchange', kind: 'exchange', priority: 1, staleAfterMs: 300, enabled: true, config: {} },
    {
      bus: createMemoryBus({ logger }),
      clock: manualClock(0),
      logger,
      orders,
      fetch,
      timers: true,
      sink: { tick: () => {}, bookChanged: () => {}, heartbeat: (id) => beats.push(id) },
    },
  );
  await feed.start();
  await eventually(() => expect(beats.length).toBeGreaterThanOrEqual(2));
  expect(new Set(beats)).toEqual(new Set(['exchange']));
  up = false;
  await eventually(() =>
    expect(feed!.health()).toMatchObject({ state: 'error', lastError: 'heartbeat: connection refused' }),
  );
  up = true;
  await eventually(() => expect(feed!.health().state).toBe('connected'));
});

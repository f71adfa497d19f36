/**
 * The running feeds: loaded from md_feeds (the built-in exchange feed is written whenever it is
 * missing; the API refuses to delete it, an admin pauses it instead), started, and restarted when
 * an admin changes them. The consolidator is told which market feeds exist (news feeds carry no
 * quotes or trades).
 */
import type { Db } from '../../../platform/db/types.ts';
import type { Consolidator } from '../consolidation/consolidator.ts';
import type { FeedDefinition, FeedHealth, FeedView, NewsItemView } from '../model.ts';
import { createExchangeFeed } from './exchange.ts';
import { createNewsFeed, type NewsParsing } from './news.ts';
import { createSimulatedFeed } from './simulated.ts';
import { insertFeed, listFeeds } from './store.ts';
import type { Feed, FeedDeps } from './types.ts';

export const DEFAULT_EXCHANGE_FEED: FeedDefinition = {
  id: 'exchange',
  kind: 'exchange',
  priority: 1,
  staleAfterMs: 60_000,
  enabled: true,
  config: {},
};

export interface FeedManagerDeps extends FeedDeps {
  db: Db;
  consolidator: Consolidator;
  parsing: NewsParsing;
  knownSymbols(): readonly string[];
  onNews(items: NewsItemView[]): void;
}

export interface FeedManager {
  /** Reads md_feeds and makes the running feeds match it. */
  reload(): Promise<void>;
  running(): Feed[];
  get(id: string): Feed | undefined;
  views(): Promise<FeedView[]>;
  health(def: FeedDefinition): FeedHealth;
  stopAll(): Promise<void>;
}

const same = (a: FeedDefinition, b: FeedDefinition): boolean => JSON.stringify(a) === JSON.stringify(b);

export function createFeedManager(deps: FeedManagerDeps): FeedManager {
  const feeds = new Map<string, Feed>();
  let chain: Promise<void> = Promise.resolve();

  function make(def: FeedDefinition): Feed {
    switch (def.kind) {
      case 'exchange':
        return createExchangeFeed(def, deps);
      case 'simulated':
        return createSimulatedFeed(def, deps);
      case 'news':
        return createNewsFeed(def, {
          ...deps,
          parsing: deps.parsing,
          knownSymbols: deps.knownSymbols,
          onItems: deps.onNews,
        });
    }
  }

  async function apply(defs: FeedDefinition[]): Promise<void> {
    const wanted = new Map(defs.filter((d) => d.enabled).map((d) => [d.id, d]));
    for (const [id, feed] of feeds) {
      const def = wanted.get(id);
      if (!def || !same(def, feed.definition)) {
        feeds.delete(id);
        await feed
          .stop()
          .catch((err: unknown) => deps.logger.warn({ err, id }, 'market-data: feed stop failed'));
      }
    }
    // sources first, so the first ticks of a new feed are not dropped as unknown
    deps.consolidator.setSources(
      [...wanted.values()]
        .filter((d) => d.kind !== 'news')
        .map((d) => ({ id: d.id, priority: d.priority, staleAfterMs: d.staleAfterMs })),
    );
    for (const def of wanted.values()) {
      if (feeds.has(def.id)) continue;
      const feed = make(def);
      feeds.set(def.id, feed);
      await feed
        .start()
        .catch((err: unknown) => deps.logger.warn({ err, id: def.id }, 'market-data: feed start failed'));
    }
  }

  async function reload(): Promise<void> {
    let defs = await listFeeds(deps.db);
    // built in: written when missing (a new database, or a row deleted behind the API's back)
    if (!defs.some((d) => d.id === DEFAULT_EXCHANGE_FEED.id)) {
      await insertFeed(deps.db, DEFAULT_EXCHANGE_FEED, deps.clock.now());
      defs = await listFeeds(deps.db);
    }
    await apply(defs);
  }

  function health(def: FeedDefinition): FeedHealth {
    const feed = feeds.get(def.id);
    const adapter = feed?.health() ?? { state: 'stopped' as const, lastError: null };
    if (def.kind === 'news') {
      const last = feed && 'lastSuccessAt' in feed ? (feed.lastSuccessAt as () => number | null)() : null;
      const silent = last !== null && deps.clock.now() - last > def.staleAfterMs;
      return {
        state: adapter.state === 'connected' && silent ? 'stale' : adapter.state,
        lagMs: last === null ? null : deps.clock.now() - last,
        msgsPerSec: 0,
        lastMessageAt: last,
        lastError: adapter.lastError,
        duplicates: 0,
        outOfOrder: 0,
      };
    }
    const s = feed ? deps.consolidator.stats(def.id) : null;
    return {
      state: adapter.state === 'connected' && s?.stale ? 'stale' : adapter.state,
      lagMs: s?.lagMs ?? null,
      msgsPerSec: s?.msgsPerSec ?? 0,
      lastMessageAt: s?.lastMessageAt ?? null,
      lastError: adapter.lastError,
      duplicates: s?.duplicates ?? 0,
      outOfOrder: s?.outOfOrder ?? 0,
    };
  }

  return {
    reload: () => {
      // one reload at a time, in order: two quick admin changes must not interleave
      chain = chain.then(reload, reload);
      return chain;
    },
    running: () => [...feeds.values()],
    get: (id) => feeds.get(id),
    async views() {
      const defs = await listFeeds(deps.db);
      return defs.map((d) => ({
        id: d.id,
        kind: d.kind,
        priority: d.priority,
        staleAfterMs: d.staleAfterMs,
        enabled: d.enabled,
        config: d.config as Record<string, unknown>,
        health: health(d),
      }));
    },
    health,
    async stopAll() {
      await chain.catch(() => {});
      const all = [...feeds.values()];
      feeds.clear();
      await Promise.all(all.map((f) => f.stop().catch(() => {})));
    },
  };
}

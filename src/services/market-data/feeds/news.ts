/**
 * RSS/Atom news: fetches the feed's URL (or a path on the services' own address, see
 * FeedDeps.localUrl) every intervalMs, parses it (news/parseFeed), tags each
 * item with the symbols its title and summary mention (news/tagSymbols) and stores it. Only
 * items new to the database are announced (`onItems`): several instances polling the same URL
 * announce each item once, whoever stores it first.
 */
import type { Db } from '../../../platform/db/types.ts';
import type { FeedDefinition, NewsFeedConfig, NewsItemView } from '../model.ts';
import { insertNews } from './news-store.ts';
import type { AdapterHealth, Feed, FeedDeps } from './types.ts';

export interface NewsParsing {
  parseFeed(xml: string): {
    guid: string;
    title: string;
    url: string | null;
    summary: string;
    publishedAt: Date | null;
  }[];
  tagSymbols(text: string, symbols: readonly string[]): string[];
}

export interface NewsFeedDeps extends FeedDeps {
  db: Db;
  parsing: NewsParsing;
  knownSymbols(): readonly string[];
  onItems(items: NewsItemView[]): void;
}

const MAX_BYTES = 5 * 1024 * 1024;

export function createNewsFeed(
  def: FeedDefinition,
  deps: NewsFeedDeps,
): Feed & { lastSuccessAt(): number | null } {
  const config = def.config as NewsFeedConfig;
  const interval = config.intervalMs ?? 60_000;
  let health: AdapterHealth = { state: 'stopped', lastError: null };
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | null = null;
  let lastSuccess: number | null = null;
  const stopped = new AbortController();

  /** The URL to fetch now: a path is resolved against the current local address (waited for). */
  async function target(): Promise<string> {
    if (!config.url.startsWith('/')) return config.url;
    if (!deps.localUrl) throw new Error(`no local address to fetch ${config.url} from`);
    const localUrl = deps.localUrl;
    const base = await new Promise<string>((resolve, reject) => {
      const onStop = () => reject(new Error('feed stopped'));
      stopped.signal.addEventListener('abort', onStop, { once: true });
      localUrl()
        .then(resolve, reject)
        .finally(() => stopped.signal.removeEventListener('abort', onStop));
    });
    return new URL(config.url, base).href;
  }

  async function poll(): Promise<void> {
    try {
      const res = await deps.fetch(await target(), {
        headers: { accept: 'application/rss+xml, application/atom+xml, application/xml, text/xml' },
        signal: AbortSignal.timeout(Math.min(30_000, interval)),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const text = await res.text();
      if (text.length > MAX_BYTES) throw new Error('feed larger than 5 MiB');
      const now = deps.clock.now();
      const symbols = deps.knownSymbols();
      const items = deps.parsing.parseFeed(text).map((i) => ({
        guid: i.guid,
        title: i.title,
        url: i.url || null,
        summary: i.summary || null,
        publishedAt: i.publishedAt?.getTime() ?? now,
        symbols: deps.parsing.tagSymbols(`${i.title}\n${i.summary}`, symbols),
      }));
      const added = await insertNews(deps.db, def.id, items, now);
      lastSuccess = now;
      health = { state: 'connected', lastError: null };
      if (added.length > 0) deps.onItems(added);
    } catch (err) {
      health = { state: 'error', lastError: (err as Error).message };
      deps.logger.warn({ err, feed: def.id }, 'market-data: news poll failed');
    }
  }

  const step = (): Promise<void> => {
    inFlight ??= poll().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  return {
    id: def.id,
    kind: 'news',
    definition: def,
    async start() {
      health = { state: 'connected', lastError: null };
      if (deps.timers) {
        timer = setInterval(() => void step(), interval);
        timer.unref();
        void step();
      }
    },
    async stop() {
      clearInterval(timer);
      stopped.abort(); // a poll still waiting for the local address gives up
      await inFlight;
      health = { state: 'stopped', lastError: health.lastError };
    },
    health: () => health,
    step,
    lastSuccessAt: () => lastSuccess,
  };
}

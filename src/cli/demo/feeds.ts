/**
 * The demo's extra market-data feeds, besides our own exchange (which the market-data service adds
 * by itself): a simulated external venue quoting symbols that do not trade here (index and sector
 * ETFs), and the offline news wire (newsroom.ts). Written to md_feeds like an admin's feeds, so
 * the operator console shows them and an admin may change or remove them. The news feed's URL is
 * a path on the services' own address, resolved at each poll: the internal port changes with every
 * start, and a stored port would send the first poll after a restart to the old one.
 */
import type { Db } from '../../platform/db/types.ts';
import { insertFeed, updateFeed } from '../../services/market-data/feeds/store.ts';
import type { MarketDataService } from '../../services/market-data/index.ts';
import type { FeedDefinition } from '../../services/market-data/model.ts';

export const DEMO_SIMULATED_SYMBOLS = [
  { symbol: 'QQQ', price: 512.4 },
  { symbol: 'IWM', price: 224.1 },
  { symbol: 'GLD', price: 241.75 },
  { symbol: 'TLT', price: 91.3 },
];

export async function addDemoFeeds(
  db: Db,
  md: MarketDataService,
  opts: { newsPath: string; seed: number; now: number },
): Promise<void> {
  const feeds: FeedDefinition[] = [
    {
      id: 'demo-venue',
      kind: 'simulated',
      priority: 50,
      staleAfterMs: 10_000,
      enabled: true,
      config: { symbols: DEMO_SIMULATED_SYMBOLS, ratePerSec: 8, seed: opts.seed },
    },
    {
      id: 'demo-wire',
      kind: 'news',
      priority: 100,
      staleAfterMs: 180_000,
      enabled: true,
      config: { url: opts.newsPath, intervalMs: 15_000 },
    },
  ];
  for (const feed of feeds) {
    if (!(await insertFeed(db, feed, opts.now)) && feed.kind === 'news') await updateFeed(db, feed, opts.now);
  }
  await md.reloadFeeds();
}

import { describe, expect, it } from 'vitest';
import { parseFeed, tagSymbols } from '../../services/market-data/news/index.ts';
import { DEMO_NEWS_SYMBOLS, headlines, rss } from './newsroom.ts';

describe('demo newsroom', () => {
  const minute = 60_000;
  const now = Date.UTC(2026, 10, 27, 12, 0, 30);

  it('is the same feed for the same seed and time, and items keep their guid and title as time passes', () => {
    const a = headlines(7, now, DEMO_NEWS_SYMBOLS);
    expect(headlines(7, now, DEMO_NEWS_SYMBOLS)).toEqual(a);
    const later = headlines(7, now + 3 * minute, DEMO_NEWS_SYMBOLS);
    expect(later[0]!.guid).not.toBe(a[0]!.guid);
    const byGuid = new Map(a.map((h) => [h.guid, h.title]));
    const shared = later.filter((h) => byGuid.has(h.guid));
    expect(shared.length).toBe(a.length - 3);
    for (const h of shared) expect(h.title).toBe(byGuid.get(h.guid));
    expect(headlines(8, now, DEMO_NEWS_SYMBOLS).map((h) => h.title)).not.toEqual(a.map((h) => h.title));
  });

  it('writes RSS that the news parser reads back, each item tagged with a demo symbol', () => {
    const items = headlines(7, now, DEMO_NEWS_SYMBOLS, { count: 12 });
    const parsed = parseFeed(rss(items, 'http://127.0.0.1:9/demo/news.rss'));
    expect(parsed.map((p) => p.guid)).toEqual(items.map((h) => h.guid));
    expect(parsed.map((p) => p.title)).toEqual(items.map((h) => h.title));
    for (const p of parsed) {
      expect(p.publishedAt?.getTime()).toBe(items.find((h) => h.guid === p.guid)!.publishedAt.getTime());
      expect(tagSymbols(`${p.title} ${p.summary}`, DEMO_NEWS_SYMBOLS).length).toBeGreaterThan(0);
    }
  });

  it('escapes what it writes', () => {
    const xml = rss(
      [
        {
          guid: 'g1',
          title: 'Q&A: "Bulls" & bears',
          summary: "5 > 3 & it's 'quoted'",
          publishedAt: new Date(now),
        },
      ],
      'http://x/?a=1&b=2',
    );
    expect(parseFeed(xml)[0]).toMatchObject({
      title: 'Q&A: "Bulls" & bears',
      summary: "5 > 3 & it's 'quoted'",
    });
  });
});

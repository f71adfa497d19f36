/** md_news: news items, unique per feed and guid. */
import type { Queryable } from '../../../platform/db/types.ts';
import type { NewsItemView } from '../model.ts';

export interface NewNewsItem {
  guid: string;
  title: string;
  url: string | null;
  summary: string | null;
  /** the feed's date, or when we first saw the item */
  publishedAt: number;
  symbols: string[];
}

interface Row {
  id: number;
  feed_id: string;
  guid: string;
  url: string | null;
  title: string;
  summary: string | null;
  published_at: Date;
  symbols: string[];
}

const toView = (r: Row): NewsItemView => ({
  id: r.id,
  feedId: r.feed_id,
  guid: r.guid,
  url: r.url,
  title: r.title,
  summary: r.summary,
  publishedAt: r.published_at.getTime(),
  symbols: r.symbols,
});

const COLUMNS = 'id, feed_id, guid, url, title, summary, published_at, symbols';

/** Stores the items not stored yet and returns those (so one instance announces each item once). */
export async function insertNews(
  db: Queryable,
  feedId: string,
  items: readonly NewNewsItem[],
  now: number,
): Promise<NewsItemView[]> {
  const added: NewsItemView[] = [];
  for (const item of items) {
    const { rows } = await db.query<Row>(
      `INSERT INTO md_news (feed_id, guid, url, title, summary, published_at, symbols, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8)
       ON CONFLICT (feed_id, guid) DO NOTHING RETURNING ${COLUMNS}`,
      [
        feedId,
        item.guid,
        item.url,
        item.title,
        item.summary,
        new Date(item.publishedAt),
        item.symbols,
        new Date(now),
      ],
    );
    if (rows[0]) added.push(toView(rows[0]));
  }
  return added;
}

/** Newest first; with symbols, the items tagged with any of them. */
export async function listNews(
  db: Queryable,
  q: { symbols?: readonly string[]; limit: number },
): Promise<NewsItemView[]> {
  const { rows } =
    q.symbols && q.symbols.length > 0
      ? await db.query<Row>(
          `SELECT ${COLUMNS} FROM md_news WHERE symbols && $1::text[]
           ORDER BY published_at DESC, id DESC LIMIT $2`,
          [q.symbols, q.limit],
        )
      : await db.query<Row>(`SELECT ${COLUMNS} FROM md_news ORDER BY published_at DESC, id DESC LIMIT $1`, [
          q.limit,
        ]);
  return rows.map(toView);
}

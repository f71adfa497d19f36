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

/**
 * Newest first (or oldest first: `sort: 'asc'`); with symbols, the items tagged with any of them;
 * `from`/`to` bound the publication time (from inclusive, to exclusive); `after` is the last item
 * of the previous page (a keyset cursor: items published later do not shift the pages).
 */
export async function listNews(
  db: Queryable,
  q: {
    symbols?: readonly string[];
    limit: number;
    from?: number;
    to?: number;
    sort?: 'asc' | 'desc';
    after?: { publishedAt: number; id: number };
  },
): Promise<NewsItemView[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (q.symbols && q.symbols.length > 0) where.push(`symbols && ${param(q.symbols)}::text[]`);
  if (q.from !== undefined) where.push(`published_at >= ${param(new Date(q.from))}`);
  if (q.to !== undefined) where.push(`published_at < ${param(new Date(q.to))}`);
  const asc = q.sort === 'asc';
  if (q.after) {
    const at = param(new Date(q.after.publishedAt));
    const id = param(q.after.id);
    where.push(asc ? `(published_at, id) > (${at}, ${id})` : `(published_at, id) < (${at}, ${id})`);
  }
  const order = asc ? 'published_at ASC, id ASC' : 'published_at DESC, id DESC';
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM md_news ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY ${order} LIMIT ${param(q.limit)}`,
    params,
  );
  return rows.map(toView);
}

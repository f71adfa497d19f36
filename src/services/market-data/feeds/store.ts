/** md_feeds: the feeds an admin configured. */
import type { Queryable } from '../../../platform/db/types.ts';
import type { FeedDefinition } from '../model.ts';

interface Row {
  id: string;
  kind: FeedDefinition['kind'];
  priority: number;
  stale_after_ms: number;
  enabled: boolean;
  config: Record<string, unknown>;
}

const toDef = (r: Row): FeedDefinition =>
  ({
    id: r.id,
    kind: r.kind,
    priority: r.priority,
    staleAfterMs: r.stale_after_ms,
    enabled: r.enabled,
    config: r.config,
  }) as FeedDefinition;

export async function listFeeds(db: Queryable): Promise<FeedDefinition[]> {
  const { rows } = await db.query<Row>(
    'SELECT id, kind, priority, stale_after_ms, enabled, config FROM md_feeds ORDER BY priority, id',
  );
  return rows.map(toDef);
}

/** Inserts; false when the id is taken. */
export async function insertFeed(db: Queryable, def: FeedDefinition, now: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO md_feeds (id, kind, priority, stale_after_ms, enabled, config, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (id) DO NOTHING`,
    [
      def.id,
      def.kind,
      def.priority,
      def.staleAfterMs,
      def.enabled,
      JSON.stringify(def.config),
      new Date(now),
    ],
  );
  return rowCount === 1;
}

export async function updateFeed(db: Queryable, def: FeedDefinition, now: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE md_feeds SET priority = $2, stale_after_ms = $3, enabled = $4, config = $5, updated_at = $6
     WHERE id = $1`,
    [def.id, def.priority, def.staleAfterMs, def.enabled, JSON.stringify(def.config), new Date(now)],
  );
  return rowCount === 1;
}

export async function deleteFeed(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM md_feeds WHERE id = $1', [id]);
  return rowCount === 1;
}

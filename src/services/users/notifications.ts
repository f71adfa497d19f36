/**
 * The notifications inbox. Rows are written in batches (one INSERT per batch of events) and
 * deduplicated by (user, dedupe_key): the order events come through a durable consumer the users
 * instances share (each event to one of them), but an event is delivered again after a crash
 * before its acknowledgement, and the unique key makes exactly one row of it. The instance whose
 * INSERT created rows announces them on `users.notification.<user>` so that whichever instance
 * holds the user's WebSocket pushes them.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Bus } from '../../platform/bus/types.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Db, Queryable } from '../../platform/db/types.ts';
import { createBatcher } from './batcher.ts';
import { type NotificationView, notificationSubject } from './events.ts';

export type NotificationKind =
  | 'order_fill'
  | 'order_canceled'
  | 'order_expired'
  | 'order_rejected'
  | 'price_alert';

export interface NewNotification {
  userId: string;
  kind: NotificationKind;
  title: string;
  data: Record<string, unknown>;
  dedupeKey: string;
}

interface NotificationRow {
  id: string;
  seq: number;
  user_id: string;
  kind: NotificationKind;
  title: string;
  data: Record<string, unknown>;
  created_at: Date;
  read_at: Date | null;
}

export function notificationView(r: NotificationRow): NotificationView {
  return {
    id: r.id,
    kind: r.kind,
    title: r.title,
    data: r.data,
    created_at: r.created_at.toISOString(),
    read_at: r.read_at?.toISOString() ?? null,
  };
}

export interface Inbox {
  /** Queue for the batch writer (bus consumers); resolves once its batch is written (or failed and logged). */
  enqueue(n: NewNotification): Promise<void>;
  /** Write now, in the caller's transaction; returns the rows created (duplicates skipped). */
  insert(
    q: Queryable,
    items: readonly NewNotification[],
  ): Promise<{ userId: string; view: NotificationView }[]>;
  /** Tell every instance about rows created (after their transaction committed). */
  announce(created: readonly { userId: string; view: NotificationView }[]): Promise<void>;
  list(
    userId: string,
    f: { unreadOnly: boolean; beforeSeq: number | null; limit: number },
  ): Promise<(NotificationView & { seq: number })[]>;
  markRead(userId: string, id: string): Promise<boolean>;
  markAllRead(userId: string): Promise<number>;
  /** Resolves when everything queued so far is written. */
  idle(): Promise<void>;
}

const COLS = 'id, seq, user_id, kind, title, data, created_at, read_at';

export function createInbox(deps: { db: Db; bus: Bus; clock: Clock; logger: FastifyBaseLogger }): Inbox {
  const { db, bus, clock, logger } = deps;

  async function insertRows(q: Queryable, items: readonly NewNotification[]): Promise<NotificationRow[]> {
    if (items.length === 0) return [];
    const now = new Date(clock.now());
    // one statement for the whole batch; rows for users that do not exist (the fee account, the
    // demo market maker) are skipped rather than failing the batch on the foreign key
    const { rows } = await q.query<NotificationRow>(
      `INSERT INTO notifications (id, user_id, kind, title, data, dedupe_key, created_at)
       SELECT n.id, n.user_id, n.kind, n.title, n.data::jsonb, n.dedupe_key, $7
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[])
              AS n (id, user_id, kind, title, data, dedupe_key)
        WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = n.user_id)
       ON CONFLICT (user_id, dedupe_key) DO NOTHING
       RETURNING ${COLS}`,
      [
        items.map(() => randomUUID()),
        items.map((n) => n.userId),
        items.map((n) => n.kind),
        items.map((n) => n.title),
        items.map((n) => JSON.stringify(n.data)),
        items.map((n) => n.dedupeKey),
        now,
      ],
    );
    return rows;
  }

  async function announce(created: readonly { userId: string; view: NotificationView }[]): Promise<void> {
    const byUser = new Map<string, NotificationView[]>();
    for (const c of created) {
      let list = byUser.get(c.userId);
      if (!list) byUser.set(c.userId, (list = []));
      list.push(c.view);
    }
    await Promise.all(
      [...byUser].map(([userId, notifications]) =>
        bus.publish(notificationSubject(userId), { userId, notifications }).catch((err: unknown) => {
          // the row is written: the user sees it in the inbox even if the live push is lost
          logger.warn({ err, userId }, 'could not announce notifications');
        }),
      ),
    );
  }

  const batcher = createBatcher<NewNotification>({
    maxBatch: 1000,
    maxQueued: 100_000,
    // a fill notification may reach the inbox and the live stream up to this much later; at 100
    // orders/s it turned ~60 one-row INSERTs a second (~1 ms of CPU each on PGlite) into 20
    gatherMs: 50,
    logger,
    what: 'notifications',
    flush: async (items) => {
      // the same event can be queued twice in one batch only if published twice: keep the first
      const seen = new Set<string>();
      const unique = items.filter((n) => {
        const k = `${n.userId}/${n.dedupeKey}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      const rows = await insertRows(db, unique);
      await announce(rows.map((r) => ({ userId: r.user_id, view: notificationView(r) })));
    },
  });

  return {
    enqueue: (n) => batcher.push(n),
    async insert(q, items) {
      return (await insertRows(q, items)).map((r) => ({ userId: r.user_id, view: notificationView(r) }));
    },
    announce,
    async list(userId, f) {
      const { rows } = await db.query<NotificationRow>(
        `SELECT ${COLS} FROM notifications
          WHERE user_id = $1 AND ($2::boolean IS FALSE OR read_at IS NULL) AND ($3::bigint IS NULL OR seq < $3)
          ORDER BY seq DESC LIMIT $4`,
        [userId, f.unreadOnly, f.beforeSeq, f.limit + 1],
      );
      return rows.map((r) => ({ ...notificationView(r), seq: r.seq }));
    },
    async markRead(userId, id) {
      const { rows } = await db.query(
        'UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2 RETURNING id',
        [id, userId, new Date(clock.now())],
      );
      return rows.length > 0;
    },
    async markAllRead(userId) {
      const { rowCount } = await db.query(
        'UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL',
        [userId, new Date(clock.now())],
      );
      return rowCount;
    },
    idle: () => batcher.idle(),
  };
}

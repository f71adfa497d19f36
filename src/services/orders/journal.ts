/**
 * Reading the journal back: the only input recovery trusts. Entries come in seq order, in pages
 * (keyset on seq, so a long journal never sits in memory at once).
 */
import type { Command, RejectReason } from '../../domain/exchange.ts';
import type { Queryable } from '../../platform/db/types.ts';

export interface JournalEntry {
  seq: number;
  command: Command;
  idempotencyKey: string | null;
  rejectReason: RejectReason | null;
}

interface JournalRow {
  seq: number;
  command: Command;
  idempotency_key: string | null;
  reject_reason: RejectReason | null;
}

const PAGE = 5000;

export async function* readJournal(db: Queryable, afterSeq = 0): AsyncGenerator<JournalEntry> {
  let last = afterSeq;
  for (;;) {
    const { rows } = await db.query<JournalRow>(
      'SELECT seq, command, idempotency_key, reject_reason FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2',
      [last, PAGE],
    );
    for (const row of rows) {
      yield {
        seq: row.seq,
        command: row.command,
        idempotencyKey: row.idempotency_key,
        rejectReason: row.reject_reason,
      };
    }
    if (rows.length < PAGE) return;
    last = rows[rows.length - 1]!.seq;
  }
}

export async function journalEntry(db: Queryable, seq: number): Promise<JournalEntry | null> {
  const { rows } = await db.query<JournalRow>(
    'SELECT seq, command, idempotency_key, reject_reason FROM journal WHERE seq = $1',
    [seq],
  );
  const row = rows[0];
  return row
    ? {
        seq: row.seq,
        command: row.command,
        idempotencyKey: row.idempotency_key,
        rejectReason: row.reject_reason,
      }
    : null;
}

/** Idempotency keys are scoped so that one account's keys can never collide with another's. */
export const idempotencyKeys = {
  order: (account: string, clientOrderId: string): string => `o/${account}/${clientOrderId}`,
  cash: (account: string, key: string): string => `c/${account}/${key}`,
  shares: (account: string, key: string): string => `s/${account}/${key}`,
};

export type KeyKind = 'order' | 'cash' | 'shares';

/**
 * The seq of the newest command with this key since `sinceTs`, from the tables (for keys that
 * memory no longer holds; idempotency.ts). Order keys are in `orders` (a rejected order has its
 * row too), the others in the journal.
 */
export async function findKeyedCommand(
  db: Queryable,
  kind: KeyKind,
  account: string,
  key: string,
  sinceTs: number,
): Promise<number | null> {
  const since = new Date(sinceTs);
  if (kind === 'order') {
    const { rows } = await db.query<{ created_seq: number }>(
      `SELECT created_seq FROM orders WHERE account = $1 AND client_order_id = $2 AND created_at >= $3
        ORDER BY id DESC LIMIT 1`,
      [account, key, since],
    );
    return rows[0]?.created_seq ?? null;
  }
  const scoped = kind === 'cash' ? idempotencyKeys.cash(account, key) : idempotencyKeys.shares(account, key);
  const { rows } = await db.query<{ seq: number }>(
    'SELECT seq FROM journal WHERE idempotency_key = $1 AND ts >= $2 ORDER BY seq DESC LIMIT 1',
    [scoped, since],
  );
  return rows[0]?.seq ?? null;
}

export interface RecentKeys {
  /** [scoped key, seq, ts], oldest first */
  keys: [string, number, number][];
  /** every key of a command at or after this time is in `keys` */
  coversSince: number;
}

/** The lowest order id created at or after `sinceTs` (ids and times increase together), or null. */
async function firstOrderIdSince(db: Queryable, sinceTs: number): Promise<number | null> {
  const bounds = (
    await db.query<{ lo: number | null; hi: number | null }>(
      'SELECT min(id) AS lo, max(id) AS hi FROM orders',
    )
  ).rows[0];
  if (!bounds || bounds.lo === null || bounds.hi === null) return null;
  const createdAt = async (id: number): Promise<{ id: number; ts: number } | null> => {
    const row = (
      await db.query<{ id: number; created_at: Date }>(
        'SELECT id, created_at FROM orders WHERE id >= $1 ORDER BY id LIMIT 1',
        [id],
      )
    ).rows[0];
    return row ? { id: row.id, ts: row.created_at.getTime() } : null;
  };
  let lo = bounds.lo;
  let hi = bounds.hi;
  const last = await createdAt(hi);
  if (!last || last.ts < sinceTs) return null;
  // binary search on the primary key: a few dozen index probes whatever the table's size
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const at = await createdAt(mid);
    if (at !== null && at.ts >= sinceTs) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The keys of the last `windowMs` (at most `maxKeys`, the newest), to fill memory on start. */
export async function loadRecentKeys(
  db: Queryable,
  now: number,
  windowMs: number,
  maxKeys: number,
): Promise<RecentKeys> {
  const since = now - windowMs;
  const out: [string, number, number][] = [];
  const from = await firstOrderIdSince(db, since);
  if (from !== null) {
    const { rows } = await db.query<{
      account: string;
      client_order_id: string;
      created_seq: number;
      created_at: Date;
    }>(
      `SELECT account, client_order_id, created_seq, created_at FROM orders
        WHERE id >= $1 AND client_order_id IS NOT NULL ORDER BY id DESC LIMIT $2`,
      [from, maxKeys + 1],
    );
    for (const r of rows)
      out.push([idempotencyKeys.order(r.account, r.client_order_id), r.created_seq, r.created_at.getTime()]);
  }
  const { rows } = await db.query<{ idempotency_key: string; seq: number; ts: Date }>(
    `SELECT idempotency_key, seq, ts FROM journal WHERE idempotency_key IS NOT NULL AND ts >= $1
      ORDER BY seq DESC LIMIT $2`,
    [new Date(since), maxKeys + 1],
  );
  for (const r of rows) out.push([r.idempotency_key, r.seq, r.ts.getTime()]);
  out.sort((a, b) => a[1] - b[1]);
  if (out.length <= maxKeys) return { keys: out, coversSince: since };
  const kept = out.slice(out.length - maxKeys);
  return { keys: kept, coversSince: kept[0]![2] + 1 };
}

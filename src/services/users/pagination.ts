/**
 * Keyset pagination: `?limit=&cursor=` on every list, answers carry `next_cursor` (null on the last
 * page). The cursor is opaque to clients (base64url of a version tag and the last row's `seq`);
 * it grants nothing, because every list query is already scoped to what the caller may see.
 */
import { invalidField } from './problems.ts';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

export const pageQuerySchema = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
  cursor: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' },
} as const;

export interface PageQuery {
  limit: number;
  cursor?: string;
}

export function encodeCursor(seq: number): string {
  return Buffer.from(`c1:${seq}`, 'utf8').toString('base64url');
}

/** The seq after (or before, for newest-first lists) which the page starts; 400 on a bad cursor. */
export function decodeCursor(cursor: string | undefined): number | null {
  if (cursor === undefined) return null;
  const m = /^c1:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m?.[1]) throw invalidField('querystring', 'cursor', 'is not a cursor this service issued');
  return Number(m[1]);
}

/** Rows fetched with `limit + 1` → the page and the cursor of the next one. */
export function page<R extends { seq: number }>(
  rows: R[],
  limit: number,
): { rows: R[]; next: string | null } {
  if (rows.length <= limit) return { rows, next: null };
  const kept = rows.slice(0, limit);
  return { rows: kept, next: encodeCursor(kept[kept.length - 1]!.seq) };
}

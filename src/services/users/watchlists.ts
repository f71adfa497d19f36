/**
 * Alpaca-style watchlists: a user's named, ordered lists of symbols (migrations/011_watchlists.sql).
 * Only ever the caller's own. A symbol appears once per list; names are unique per user (409).
 */
import { randomUUID } from 'node:crypto';
import { assetUuid } from '../../domain/alpaca-ids.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import { conflict } from './problems.ts';

export const MAX_WATCHLISTS_PER_USER = 100;
export const MAX_SYMBOLS_PER_WATCHLIST = 1_000;

export interface WatchlistRow {
  id: string;
  user_id: string;
  name: string;
  symbols: string[];
  created_at: Date;
  updated_at: Date;
}

/** Alpaca's Watchlist; each asset is the listing's Alpaca shape (ids derived from the symbol). */
export function watchlistView(r: WatchlistRow, withAssets = true) {
  return {
    id: r.id,
    account_id: r.user_id,
    name: r.name,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
    ...(withAssets && {
      assets: r.symbols.map((symbol) => ({
        id: assetUuid(symbol),
        class: 'us_equity',
        exchange: '',
        symbol,
        name: symbol,
        status: 'active',
        tradable: true,
        marginable: false,
        shortable: false,
        easy_to_borrow: false,
        fractionable: false,
        attributes: [] as string[],
      })),
    }),
  };
}

const unique = (symbols: readonly string[]): string[] => [...new Set(symbols)];

/** Which list: by id or by name. */
export type WatchlistKey = { id: string } | { name: string };

export function watchlistStore(db: Db, clock: Clock) {
  const where = (key: WatchlistKey) =>
    'id' in key ? { sql: 'id = $2', value: key.id } : { sql: 'name = $2', value: key.name };
  const duplicate = (err: unknown, name: string) => {
    if ((err as { code?: string }).code === '23505')
      return conflict('watchlist-exists', `a watchlist named ${JSON.stringify(name)} already exists`, 'name');
    return err;
  };

  return {
    async list(userId: string): Promise<WatchlistRow[]> {
      const { rows } = await db.query<WatchlistRow>(
        'SELECT * FROM watchlists WHERE user_id = $1 ORDER BY created_at, id',
        [userId],
      );
      return rows;
    },

    async get(userId: string, key: WatchlistKey): Promise<WatchlistRow | null> {
      const w = where(key);
      const { rows } = await db.query<WatchlistRow>(
        `SELECT * FROM watchlists WHERE user_id = $1 AND ${w.sql}`,
        [userId, w.value],
      );
      return rows[0] ?? null;
    },

    async create(userId: string, name: string, symbols: readonly string[]): Promise<WatchlistRow> {
      const { rows: count } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM watchlists WHERE user_id = $1',
        [userId],
      );
      if ((count[0]?.n ?? 0) >= MAX_WATCHLISTS_PER_USER)
        throw conflict('too-many-watchlists', `at most ${MAX_WATCHLISTS_PER_USER} watchlists per user`);
      const now = new Date(clock.now());
      try {
        const { rows } = await db.query<WatchlistRow>(
          `INSERT INTO watchlists (id, user_id, name, symbols, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $5) RETURNING *`,
          [randomUUID(), userId, name, unique(symbols), now],
        );
        return rows[0]!;
      } catch (err) {
        throw duplicate(err, name);
      }
    },

    /** Replace the name and/or symbols; null when there is no such list. */
    async update(
      userId: string,
      key: WatchlistKey,
      change: { name?: string; symbols?: readonly string[] },
    ): Promise<WatchlistRow | null> {
      const w = where(key);
      try {
        const { rows } = await db.query<WatchlistRow>(
          `UPDATE watchlists SET name = COALESCE($3, name), symbols = COALESCE($4, symbols), updated_at = $5
           WHERE user_id = $1 AND ${w.sql} RETURNING *`,
          [
            userId,
            w.value,
            change.name ?? null,
            change.symbols ? unique(change.symbols) : null,
            new Date(clock.now()),
          ],
        );
        return rows[0] ?? null;
      } catch (err) {
        throw duplicate(err, change.name ?? '');
      }
    },

    async add(userId: string, key: WatchlistKey, symbol: string): Promise<WatchlistRow | null> {
      const w = where(key);
      const { rows } = await db.query<WatchlistRow>(
        `UPDATE watchlists
         SET symbols = CASE WHEN $3 = ANY(symbols) THEN symbols ELSE array_append(symbols, $3) END,
             updated_at = $4
         WHERE user_id = $1 AND ${w.sql} AND cardinality(symbols) < ${MAX_SYMBOLS_PER_WATCHLIST} RETURNING *`,
        [userId, w.value, symbol, new Date(clock.now())],
      );
      return rows[0] ?? null;
    },

    async removeSymbol(userId: string, id: string, symbol: string): Promise<WatchlistRow | null> {
      const { rows } = await db.query<WatchlistRow>(
        `UPDATE watchlists SET symbols = array_remove(symbols, $3), updated_at = $4
         WHERE user_id = $1 AND id = $2 RETURNING *`,
        [userId, id, symbol, new Date(clock.now())],
      );
      return rows[0] ?? null;
    },

    async remove(userId: string, key: WatchlistKey): Promise<boolean> {
      const w = where(key);
      const { rows } = await db.query<{ id: string }>(
        `DELETE FROM watchlists WHERE user_id = $1 AND ${w.sql} RETURNING id`,
        [userId, w.value],
      );
      return rows.length > 0;
    },
  };
}

export type Watchlists = ReturnType<typeof watchlistStore>;

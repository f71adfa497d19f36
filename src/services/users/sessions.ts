/**
 * Login sessions and their refresh tokens.
 *
 * A login opens a session (a refresh-token family). Each refresh exchanges the presented token for
 * a new one; the old one is marked used by a conditional UPDATE, which is the one serialisation
 * point: of two concurrent refreshes with the same token, one wins and the other is reuse.
 * Presenting a used token means it was copied (or the client is confused): the whole family is
 * revoked, which logs out both the thief and the victim, who logs in again (OAuth 2.0 Security
 * BCP, refresh token rotation). Only keyed hashes of refresh tokens are stored.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import type { Db, Queryable } from '../../platform/db/types.ts';
import { credentialHash } from './secret.ts';
import { type UserRow, userById } from './store.ts';
import { newRefreshToken } from './tokens.ts';

export type RevokeReason =
  | 'logout'
  | 'logout_all'
  | 'refresh_token_reuse'
  | 'password_changed'
  | 'role_changed';

export type RotateResult =
  | { ok: true; user: UserRow; sessionId: string; refreshToken: string }
  | { ok: false; reason: 'unknown' | 'reuse' | 'expired' | 'revoked' };

export interface Sessions {
  open(q: Queryable, userId: string): Promise<{ sessionId: string; refreshToken: string }>;
  rotate(refreshToken: string): Promise<RotateResult>;
  /** Revokes the family the token belongs to; false when the token is unknown. */
  revokeByRefreshToken(refreshToken: string): Promise<boolean>;
  revoke(q: Queryable, sessionId: string, userId: string, reason: RevokeReason): Promise<void>;
  revokeAll(q: Queryable, userId: string, reason: RevokeReason, exceptSessionId?: string): Promise<number>;
  isLive(sessionId: string, userId: string): Promise<boolean>;
  /** Deletes long-dead sessions (their tokens go with them). */
  prune(): Promise<void>;
}

export function createSessions(deps: {
  db: Db;
  clock: Clock;
  pepper: Buffer;
  refreshTtlSec: number;
  sessionMaxSec: number;
}): Sessions {
  const { db, clock, pepper } = deps;
  const hash = (token: string) => credentialHash(pepper, token);

  async function issue(q: Queryable, sessionId: string, sessionEnd: number, now: number): Promise<string> {
    const token = newRefreshToken();
    const expires = Math.min(now + deps.refreshTtlSec * 1000, sessionEnd);
    await q.query(
      'INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)',
      [hash(token), sessionId, new Date(now), new Date(expires)],
    );
    return token;
  }

  return {
    async open(q, userId) {
      const now = clock.now();
      const sessionId = randomUUID();
      const end = now + deps.sessionMaxSec * 1000;
      await q.query(
        'INSERT INTO auth_sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)',
        [sessionId, userId, new Date(now), new Date(end)],
      );
      return { sessionId, refreshToken: await issue(q, sessionId, end, now) };
    },

    rotate(refreshToken) {
      const h = hash(refreshToken);
      return db.transaction(async (tx): Promise<RotateResult> => {
        const now = clock.now();
        const used = await tx.query<{ session_id: string; expires_at: Date }>(
          `UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL
           RETURNING session_id, expires_at`,
          [h, new Date(now)],
        );
        const token = used.rows[0];
        if (!token) {
          const seen = await tx.query<{ session_id: string }>(
            'SELECT session_id FROM refresh_tokens WHERE token_hash = $1',
            [h],
          );
          const family = seen.rows[0]?.session_id;
          if (!family) return { ok: false, reason: 'unknown' };
          await tx.query(
            `UPDATE auth_sessions SET revoked_at = $2, revoked_reason = 'refresh_token_reuse'
              WHERE id = $1 AND revoked_at IS NULL`,
            [family, new Date(now)],
          );
          return { ok: false, reason: 'reuse' };
        }
        const s = await tx.query<{ user_id: string; expires_at: Date; revoked_at: Date | null }>(
          'SELECT user_id, expires_at, revoked_at FROM auth_sessions WHERE id = $1',
          [token.session_id],
        );
        const session = s.rows[0];
        if (!session || session.revoked_at) return { ok: false, reason: 'revoked' };
        if (token.expires_at.getTime() <= now || session.expires_at.getTime() <= now) {
          return { ok: false, reason: 'expired' };
        }
        const user = await userById(tx, session.user_id);
        if (!user) return { ok: false, reason: 'revoked' };
        const next = await issue(tx, token.session_id, session.expires_at.getTime(), now);
        return { ok: true, user, sessionId: token.session_id, refreshToken: next };
      });
    },

    async revokeByRefreshToken(refreshToken) {
      const { rows } = await db.query<{ id: string }>(
        `UPDATE auth_sessions SET revoked_at = COALESCE(revoked_at, $2), revoked_reason = COALESCE(revoked_reason, 'logout')
          WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1) RETURNING id`,
        [hash(refreshToken), new Date(clock.now())],
      );
      return rows.length > 0;
    },

    async revoke(q, sessionId, userId, reason) {
      await q.query(
        `UPDATE auth_sessions SET revoked_at = $3, revoked_reason = $4
          WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`,
        [sessionId, userId, new Date(clock.now()), reason],
      );
    },

    async revokeAll(q, userId, reason, exceptSessionId) {
      const { rowCount } = await q.query(
        `UPDATE auth_sessions SET revoked_at = $2, revoked_reason = $3
          WHERE user_id = $1 AND revoked_at IS NULL AND ($4::uuid IS NULL OR id <> $4)`,
        [userId, new Date(clock.now()), reason, exceptSessionId ?? null],
      );
      return rowCount;
    },

    async isLive(sessionId, userId) {
      const { rows } = await db.query(
        `SELECT 1 FROM auth_sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3`,
        [sessionId, userId, new Date(clock.now())],
      );
      return rows.length > 0;
    },

    async prune() {
      // kept a while after death so that late reuse of a token is still recognised as reuse
      const cutoff = new Date(clock.now() - 7 * 86_400_000);
      await db.query('DELETE FROM auth_sessions WHERE expires_at < $1 OR revoked_at < $1', [cutoff]);
    },
  };
}

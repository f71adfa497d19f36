/**
 * API keys for programs (Alpaca style: `APCA-API-KEY-ID` + `APCA-API-SECRET-KEY`).
 *
 * The secret is 240 random bits, shown once at creation, stored as HMAC-SHA256 under a key derived
 * from BOURSE_SECRET. A slow password hash (argon2) protects low-entropy secrets against offline
 * guessing; these cannot be guessed at any speed, and a key is checked on every API request, so
 * argon2's ~50 ms and 19 MiB per check would only hand attackers a denial of service. The HMAC
 * (rather than a plain SHA-256) means a database copy alone can neither test a secret nor forge a
 * row that a known secret would match.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import { API_KEY_ID_PATTERN, API_KEY_SECRET_PATTERN } from './patterns.ts';
import { problem } from './problems.ts';
import { credentialHash } from './secret.ts';
import type { UserRow } from './store.ts';

export { API_KEY_ID_PATTERN, API_KEY_SECRET_PATTERN };

const ID_RE = new RegExp(API_KEY_ID_PATTERN);
const SECRET_RE = new RegExp(API_KEY_SECRET_PATTERN);
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** last_used_at is a hint for the owner, not an audit log: write it at most once a minute per key */
const LAST_USED_GRANULARITY_MS = 60_000;

export interface ApiKeyRow {
  id: string;
  seq: number;
  name: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export function apiKeyView(r: ApiKeyRow) {
  return {
    id: r.id,
    name: r.name,
    created_at: r.created_at.toISOString(),
    last_used_at: r.last_used_at?.toISOString() ?? null,
    revoked_at: r.revoked_at?.toISOString() ?? null,
  };
}

function newKeyId(): string {
  // 18 × 5 bits = 90 random bits: unguessable, but the id is not the secret
  const bytes = randomBytes(18);
  let id = 'BK';
  for (const b of bytes) id += BASE32[b & 31];
  return id;
}

export interface ApiKeys {
  create(userId: string, name: string | null): Promise<{ row: ApiKeyRow; secret: string }>;
  list(userId: string, afterSeq: number | null, limit: number): Promise<ApiKeyRow[]>;
  /** Revokes the caller's own key; false when the key is not theirs (or does not exist). */
  revoke(userId: string, keyId: string): Promise<boolean>;
  verify(keyId: string, secret: string): Promise<{ user: UserRow; keyId: string } | null>;
}

export function createApiKeys(deps: { db: Db; clock: Clock; pepper: Buffer; maxPerUser: number }): ApiKeys {
  const { db, clock, pepper } = deps;
  const cols = 'id, seq, name, created_at, last_used_at, revoked_at';
  return {
    async create(userId, name) {
      const secret = randomBytes(30).toString('base64url');
      const id = newKeyId();
      const now = new Date(clock.now());
      // the count and the insert in one statement: no window in which two creates both fit
      const { rows } = await db.query<ApiKeyRow>(
        `INSERT INTO api_keys (id, user_id, name, secret_hash, created_at)
         SELECT $1, $2, $3, $4, $5
          WHERE (SELECT count(*) FROM api_keys WHERE user_id = $2 AND revoked_at IS NULL) < $6
         RETURNING ${cols}`,
        [id, userId, name, credentialHash(pepper, secret), now, deps.maxPerUser],
      );
      const row = rows[0];
      if (!row) {
        throw problem(
          409,
          'too-many-api-keys',
          'Too many API keys',
          `at most ${deps.maxPerUser} active keys; revoke one`,
        );
      }
      return { row, secret };
    },
    async list(userId, afterSeq, limit) {
      const { rows } = await db.query<ApiKeyRow>(
        `SELECT ${cols} FROM api_keys WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
        [userId, afterSeq ?? 0, limit + 1],
      );
      return rows;
    },
    async revoke(userId, keyId) {
      if (!ID_RE.test(keyId)) return false;
      const { rows } = await db.query(
        `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND user_id = $2 RETURNING id`,
        [keyId, userId, new Date(clock.now())],
      );
      return rows.length > 0;
    },
    async verify(keyId, secret) {
      const presented = Buffer.from(credentialHash(pepper, secret), 'hex');
      if (!ID_RE.test(keyId) || !SECRET_RE.test(secret)) return null;
      const { rows } = await db.query<UserRow & { key_hash: string; last_used_at: Date | null }>(
        `SELECT u.id, u.seq, u.username, u.email, u.display_name, u.password_hash, u.role, u.brokerage_id,
                u.created_at, u.updated_at, k.secret_hash AS key_hash, k.last_used_at
           FROM api_keys k JOIN users u ON u.id = k.user_id
          WHERE k.id = $1 AND k.revoked_at IS NULL`,
        [keyId],
      );
      const r = rows[0];
      // compare against something even when the key is unknown, so both paths cost the same
      const stored = Buffer.from(r?.key_hash ?? '00'.repeat(32), 'hex');
      const match = stored.length === presented.length && timingSafeEqual(stored, presented);
      if (!r || !match) return null;
      const now = clock.now();
      if (!r.last_used_at || now - r.last_used_at.getTime() >= LAST_USED_GRANULARITY_MS) {
        await db.query('UPDATE api_keys SET last_used_at = $2 WHERE id = $1', [keyId, new Date(now)]);
      }
      const { key_hash: _h, last_used_at: _l, ...user } = r;
      return { user, keyId };
    },
  };
}

/**
 * Invitations to join a brokerage. Knowing a brokerage's id is not enough to register into it: a
 * broker of that brokerage (or an admin) hands out a code, which is good for one registration
 * until it expires. The code is 192 random bits, shown once; only its HMAC is stored (as for API
 * key secrets: it cannot be guessed, so a slow hash would buy nothing).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import type { Queryable } from '../../platform/db/types.ts';
import { INVITE_CODE_PATTERN } from './patterns.ts';
import { credentialHash } from './secret.ts';

const CODE_RE = new RegExp(INVITE_CODE_PATTERN);

export interface InviteRow {
  id: string;
  brokerage_id: string;
  created_at: Date;
  expires_at: Date;
}

export function inviteView(r: InviteRow, code: string) {
  return {
    id: r.id,
    brokerage_id: r.brokerage_id,
    code,
    created_at: r.created_at.toISOString(),
    expires_at: r.expires_at.toISOString(),
  };
}

export interface Invites {
  create(
    q: Queryable,
    brokerageId: string,
    createdBy: string,
    ttlSec: number,
  ): Promise<{ row: InviteRow; code: string }>;
  /**
   * Uses up `code` for a registration into `brokerageId`; false when it is unknown, for another
   * brokerage, expired or already used. Run it in the registration's transaction, so that a failed
   * registration leaves the invite unused.
   */
  consume(q: Queryable, brokerageId: string, code: string, userId: string): Promise<boolean>;
}

export function createInvites(deps: { clock: Clock; pepper: Buffer }): Invites {
  const { clock, pepper } = deps;
  return {
    async create(q, brokerageId, createdBy, ttlSec) {
      const code = randomBytes(24).toString('base64url');
      const now = clock.now();
      const { rows } = await q.query<InviteRow>(
        `INSERT INTO brokerage_invites (id, brokerage_id, code_hash, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, brokerage_id, created_at, expires_at`,
        [
          randomUUID(),
          brokerageId,
          credentialHash(pepper, code),
          createdBy,
          new Date(now),
          new Date(now + ttlSec * 1000),
        ],
      );
      return { row: rows[0]!, code };
    },
    async consume(q, brokerageId, code, userId) {
      if (!CODE_RE.test(code)) return false;
      const now = new Date(clock.now());
      // one statement: two registrations racing for one code cannot both get it
      const { rows } = await q.query(
        `UPDATE brokerage_invites SET used_at = $4, used_by = $3
          WHERE code_hash = $1 AND brokerage_id = $2 AND used_at IS NULL AND expires_at > $4
         RETURNING id`,
        [credentialHash(pepper, code), brokerageId, userId, now],
      );
      return rows.length > 0;
    },
  };
}

/** The UsersClient for callers in the same process: the same code the HTTP routes run, no HTTP. */
import type { UsersClient } from './client.ts';
import type { UsersContext } from './context.ts';
import { decodeCursor, page } from './pagination.ts';
import { canActFor } from './policy.ts';
import { listUsers, userById, userView } from './store.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createInProcessClient(ctx: UsersContext): UsersClient {
  return {
    verifyAccessToken: (token) => ctx.auth.fromAccessToken(token),
    verifyApiKey: (keyId, secret) => ctx.auth.fromApiKey(keyId, secret),
    async getUser(userId) {
      if (!UUID_RE.test(userId)) return null;
      const u = await userById(ctx.db, userId);
      return u ? userView(u) : null;
    },
    async listUsers(q = {}) {
      const limit = Math.min(Math.max(q.limit ?? 50, 1), 200);
      const rows = await listUsers(ctx.db, {
        brokerageId: q.brokerageId,
        role: q.role,
        afterSeq: decodeCursor(q.cursor),
        limit,
      });
      const p = page(rows, limit);
      return { users: p.rows.map(userView), next_cursor: p.next };
    },
    async canActFor(actor, targetUserId) {
      if (!UUID_RE.test(targetUserId)) return false;
      const target = await userById(ctx.db, targetUserId);
      return target !== null && canActFor(actor, target);
    },
    jwks: async () => ({ keys: (await ctx.keys.jwks()).keys.map((k) => ({ ...k, kty: String(k.kty) })) }),
  };
}

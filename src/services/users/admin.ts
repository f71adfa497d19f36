/**
 * The first admin. `bourse` calls ensureAdmin with BOURSE_ADMIN_PASSWORD: when it is set and no
 * user of that name exists, an admin is created; otherwise nothing happens. An existing account is
 * never changed (its password is not reset, and a non-admin account of that name is not promoted:
 * that would hand the platform to whoever registered the name first).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import {
  type Argon2Params,
  createPasswordHasher,
  OWASP_ARGON2ID,
  passwordPolicyViolation,
} from './passwords.ts';
import { insertUser, userByLogin } from './store.ts';

export const DEFAULT_ADMIN_USERNAME = 'admin';
export const DEFAULT_ADMIN_EMAIL = 'admin@bourse.localhost';

export async function ensureAdmin(
  deps: { db: Db; clock: Clock; logger: FastifyBaseLogger },
  opts: { password?: string | undefined; username?: string; email?: string; argon2?: Partial<Argon2Params> },
): Promise<{ created: boolean; userId: string | null }> {
  const { password } = opts;
  if (password === undefined || password === '') return { created: false, userId: null };
  const username = opts.username ?? DEFAULT_ADMIN_USERNAME;
  const email = opts.email ?? DEFAULT_ADMIN_EMAIL;
  const existing = await userByLogin(deps.db, username);
  if (existing) {
    if (existing.role !== 'admin') {
      deps.logger.warn(
        { username },
        'BOURSE_ADMIN_PASSWORD set but that username belongs to a non-admin: not promoted',
      );
    }
    return { created: false, userId: existing.role === 'admin' ? existing.id : null };
  }
  const weak = passwordPolicyViolation(password, { username, email });
  if (weak) throw new Error(`BOURSE_ADMIN_PASSWORD ${weak}`);
  const hasher = createPasswordHasher({ ...OWASP_ARGON2ID, ...opts.argon2 });
  try {
    const row = await insertUser(deps.db, {
      id: randomUUID(),
      username,
      email,
      passwordHash: await hasher.hash(password),
      role: 'admin',
      brokerageId: null,
      now: new Date(deps.clock.now()),
    });
    deps.logger.info({ userId: row.id, username }, 'created the first admin from BOURSE_ADMIN_PASSWORD');
    return { created: true, userId: row.id };
  } catch (err) {
    // another instance created it at the same moment
    const again = await userByLogin(deps.db, username);
    if (again?.role === 'admin') return { created: false, userId: again.id };
    throw err;
  }
}

/** The password check shared by login and re-authentication (email/password change): throttled. */
import type { UsersContext } from './context.ts';
import { isWellFormed } from './passwords.ts';
import { problem } from './problems.ts';
import { setPasswordHash, type UserRow } from './store.ts';

export function lockedProblem(retryAfterSec: number) {
  return problem(
    429,
    'login-locked',
    'Too many failed attempts',
    'Too many failed password attempts; try again later',
    { retry_after: retryAfterSec },
    { 'retry-after': String(retryAfterSec) },
  );
}

/**
 * True when `password` is the user's (unknown user: always false, after the same work). Throws a
 * 429 problem while the account (or the unknown name) is locked out.
 */
export async function checkPassword(
  ctx: UsersContext,
  user: UserRow | null,
  login: string,
  password: string,
): Promise<boolean> {
  const key = user ? ctx.throttle.keyForUser(user.id) : ctx.throttle.keyForUnknownLogin(login);
  const charge = await ctx.throttle.charge(key);
  if (!charge.allowed) throw lockedProblem(charge.retryAfterSec);
  if (!user || !isWellFormed(password)) {
    await ctx.hasher.burn(password);
    return false;
  }
  const { ok, rehash } = await ctx.hasher.verify(user.password_hash, password);
  if (!ok) return false;
  await ctx.throttle.clear(key);
  if (rehash) {
    // parameters were raised since this hash was made: upgrade it while we hold the password
    await setPasswordHash(ctx.db, user.id, await ctx.hasher.hash(password), new Date(ctx.clock.now()));
  }
  return true;
}

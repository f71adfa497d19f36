/** The password check shared by login and re-authentication (email/password change): throttled. */
import type { FastifyRequest } from 'fastify';
import { FORWARDED_HEADERS, hasInternalToken } from '../../platform/http/forwarded-identity.ts';
import type { UsersContext } from './context.ts';
import { presentedDeviceToken } from './devices.ts';
import { isWellFormed } from './passwords.ts';
import { problem } from './problems.ts';
import { setPasswordHash, type UserRow } from './store.ts';
import type { LoginClient } from './throttle.ts';

export function lockedProblem(retryAfterSec: number) {
  return problem(
    429,
    'login-locked',
    'Too many failed attempts',
    'Too many failed password attempts from here; try again later',
    { retry_after: retryAfterSec },
    { 'retry-after': String(retryAfterSec) },
  );
}

/**
 * Who is trying to log in: the device, when the request presents a valid device token of `user`;
 * and the address — the gateway's word for it when the request carries the internal token (the
 * gateway applies BOURSE_TRUST_PROXY), else the connection's.
 */
export function loginClientOf(ctx: UsersContext, req: FastifyRequest, user: UserRow | null): LoginClient {
  const forwarded = req.headers[FORWARDED_HEADERS.clientAddress];
  const address =
    typeof forwarded === 'string' && forwarded !== '' && hasInternalToken(req.headers, ctx.internalTokens)
      ? forwarded
      : req.ip;
  const deviceId = user
    ? ctx.devices.verify(presentedDeviceToken(req.headers), user.id, ctx.clock.now())
    : null;
  return { address, deviceId };
}

/**
 * True when `password` is the user's (unknown user: always false, after the same work). Throws a
 * 429 problem while this client is held off at this account (throttle.ts).
 */
export async function checkPassword(
  ctx: UsersContext,
  user: UserRow | null,
  login: string,
  password: string,
  client: LoginClient,
): Promise<boolean> {
  const account = user ? ctx.throttle.keyForUser(user.id) : ctx.throttle.keyForUnknownLogin(login);
  const charge = await ctx.throttle.charge(account, client);
  if (!charge.allowed) throw lockedProblem(charge.retryAfterSec);
  if (!user || !isWellFormed(password)) {
    await ctx.hasher.burn(password);
    return false;
  }
  const { ok, rehash } = await ctx.hasher.verify(user.password_hash, password);
  if (!ok) return false;
  await ctx.throttle.succeeded(account, client);
  if (rehash) {
    // parameters were raised since this hash was made: upgrade it while we hold the password
    await setPasswordHash(ctx.db, user.id, await ctx.hasher.hash(password), new Date(ctx.clock.now()));
  }
  return true;
}

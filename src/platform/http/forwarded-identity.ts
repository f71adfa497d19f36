/**
 * The caller's identity as the gateway forwards it to a service behind it (market-data,
 * reporting). The gateway authenticates at the edge (access token or API key), resolves which
 * account the request acts on (the caller's own, or a client a broker may act for) and sends the
 * result in these headers, together with the shared internal token. A service trusts the headers
 * only when that token matches: a request that reached it any other way carries no identity.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export type ForwardedRole = 'investor' | 'broker' | 'admin';

export interface ForwardedIdentity {
  userId: string;
  role: ForwardedRole;
  /** the tenant; null only for an admin outside every brokerage */
  brokerageId: string | null;
  username: string;
  /** the account this request acts on: the caller's own unless a broker or admin named a client */
  accountId: string;
}

export const FORWARDED_HEADERS = {
  token: 'x-bourse-internal-token',
  userId: 'x-bourse-user-id',
  role: 'x-bourse-role',
  brokerageId: 'x-bourse-brokerage-id',
  username: 'x-bourse-username',
  accountId: 'x-bourse-account-id',
  /** the caller's address as the gateway saw it (BOURSE_TRUST_PROXY applied): login throttling */
  clientAddress: 'x-bourse-client-address',
} as const;

const ROLES: readonly string[] = ['investor', 'broker', 'admin'];

/** The headers a gateway adds to a forwarded request (and strips from what the client sent). */
export function identityHeaders(identity: ForwardedIdentity, internalToken: string): Record<string, string> {
  return {
    [FORWARDED_HEADERS.token]: internalToken,
    [FORWARDED_HEADERS.userId]: identity.userId,
    [FORWARDED_HEADERS.role]: identity.role,
    [FORWARDED_HEADERS.brokerageId]: identity.brokerageId ?? '',
    [FORWARDED_HEADERS.username]: encodeURIComponent(identity.username),
    [FORWARDED_HEADERS.accountId]: identity.accountId,
  };
}

/**
 * The tokens a service accepts: one, or several while a token is rotated (current and next, see
 * README "Internal authentication"). A client always sends one, the first of its list.
 */
export type InternalTokens = string | readonly string[];

/** `BOURSE_INTERNAL_TOKEN`'s format: comma-separated, the first is sent, all are accepted. */
export function parseInternalTokens(raw: string): string[] {
  return raw
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

/** The header a client of an internal API sends. */
export function internalTokenHeader(internalToken: string): Record<string, string> {
  return { [FORWARDED_HEADERS.token]: internalToken };
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** digests of the accepted tokens (a deployment's few, from its configuration), computed once each */
const acceptedDigests = new Map<string, Buffer>();
const MAX_ACCEPTED_DIGESTS = 64;
function acceptedDigest(token: string): Buffer {
  let d = acceptedDigests.get(token);
  if (!d) {
    d = digest(token);
    if (acceptedDigests.size < MAX_ACCEPTED_DIGESTS) acceptedDigests.set(token, d);
  }
  return d;
}

/**
 * Whether `given` is one of the accepted tokens. Constant-time: both sides are hashed to the same
 * length first (so neither a token's length nor its prefix leaks), and every accepted token is
 * compared, not only until the first match.
 */
export function isInternalToken(given: unknown, accepted: InternalTokens): boolean {
  if (typeof given !== 'string' || given.length === 0) return false;
  const a = digest(given);
  let ok = false;
  for (const token of typeof accepted === 'string' ? [accepted] : accepted) {
    if (token.length === 0) continue;
    ok = timingSafeEqual(a, acceptedDigest(token)) || ok;
  }
  return ok;
}

/** Whether the request carries the internal token (constant-time comparison). */
export function hasInternalToken(
  headers: Record<string, string | string[] | undefined>,
  internalToken: InternalTokens,
): boolean {
  return isInternalToken(headers[FORWARDED_HEADERS.token], internalToken);
}

/**
 * The answer without an accepted internal token: 401 with its own `type`, so that a client can tell
 * "this service does not take my token" (a deployment error) from "this credential is not valid".
 */
export const INTERNAL_TOKEN_PROBLEM = {
  type: 'https://bourse.dev/problems/internal-token',
  title: 'Internal token required',
  status: 401,
  detail: "Internal API: send the deployment's internal token",
} as const;

/**
 * Every route of `app` (and of the plugins registered on it afterwards, and its 404s) answers 401
 * problem+json unless the request carries an accepted internal token. This is what makes a
 * service's own HTTP server internal: the one check, in front of all of its services' routes, so a
 * route added later is covered without anyone remembering to. `open` lists exact paths that stay
 * anonymous (health checks, which say no more than up or down).
 */
export function requireInternalToken(
  app: FastifyInstance,
  accepted: InternalTokens,
  open: readonly string[] = [],
): void {
  const anonymous = new Set(open);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (anonymous.has(req.url.split('?')[0] ?? '')) return;
    if (hasInternalToken(req.headers, accepted)) return;
    // a refused WebSocket upgrade: the socket is nobody's once answered (the websocket plugin's own
    // hooks, which would close it, never run), and an open one would hold up the server's close
    if (req.headers.upgrade) reply.raw.once('finish', () => req.raw.socket.destroy());
    return reply.code(401).type('application/problem+json').send(INTERNAL_TOKEN_PROBLEM);
  });
}

/** The forwarded identity, or null when the token is missing or wrong or a header is malformed. */
export function readForwardedIdentity(
  headers: Record<string, string | string[] | undefined>,
  internalToken: InternalTokens,
): ForwardedIdentity | null {
  if (!hasInternalToken(headers, internalToken)) return null;
  const one = (name: string): string | undefined => {
    const v = headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const userId = one(FORWARDED_HEADERS.userId);
  const role = one(FORWARDED_HEADERS.role);
  const accountId = one(FORWARDED_HEADERS.accountId);
  if (!userId || !role || !ROLES.includes(role) || !accountId) return null;
  let username = '';
  try {
    username = decodeURIComponent(one(FORWARDED_HEADERS.username) ?? '');
  } catch {
    return null;
  }
  const brokerageId = one(FORWARDED_HEADERS.brokerageId) || null;
  return { userId, role: role as ForwardedRole, brokerageId, username, accountId };
}

/**
 * The caller's identity as the gateway forwards it to a service behind it (market-data,
 * reporting). The gateway authenticates at the edge (access token or API key), resolves which
 * account the request acts on (the caller's own, or a client a broker may act for) and sends the
 * result in these headers, together with the shared internal token. A service trusts the headers
 * only when that token matches: a request that reached it any other way carries no identity.
 */
import { timingSafeEqual } from 'node:crypto';

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

/** Whether the request carries the internal token (constant-time comparison). */
export function hasInternalToken(
  headers: Record<string, string | string[] | undefined>,
  internalToken: string,
): boolean {
  const given = headers[FORWARDED_HEADERS.token];
  if (typeof given !== 'string' || internalToken.length === 0) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(internalToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The forwarded identity, or null when the token is missing or wrong or a header is malformed. */
export function readForwardedIdentity(
  headers: Record<string, string | string[] | undefined>,
  internalToken: string,
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

/** The users service's settings, with their defaults. The CLI maps env vars / the config file onto these. */
import type { Argon2Params } from './passwords.ts';
import { OWASP_ARGON2ID } from './passwords.ts';

/** Login throttling (throttle.ts); the defaults follow OWASP's authentication cheat sheet. */
export interface LockoutPolicy {
  /** attempts one client may make at one account before it is held off */
  threshold: number;
  /** first hold of a client; doubles with every further attempt */
  baseLockSec: number;
  maxLockSec: number;
  /** attempts that clients without a device token may make together at one account at once... */
  accountBurst: number;
  /** ...and one more every this many seconds */
  accountRefillSec: number;
  /** lifetime of a device token (devices.ts) */
  deviceTtlSec: number;
}

export interface UsersConfig {
  /**
   * BOURSE_SECRET: the master secret (≥ 32 characters) from which the keys that encrypt JWT private
   * keys and that hash API key secrets and refresh tokens are derived. Never in the repository.
   */
  secret?: string;
  /**
   * BOURSE_DATA_DIR: without `secret`, the embedded default keeps a generated one in
   * `<dataDir>/secret` (mode 0600). With neither, the service refuses to start.
   */
  dataDir?: string;
  /**
   * BOURSE_INTERNAL_TOKEN: the tokens /internal routes accept (current and next while rotating; the
   * first is the service's `internalToken`). Default: one derived from the secret.
   */
  internalTokens?: readonly string[];
  /**
   * BOURSE_INSTANCE_ID: this instance's stable name. With it, the trades that price alerts watch
   * come through a durable consumer of its own (every instance sees every trade, and one that was
   * down catches up); without it, a live subscription.
   */
  instanceId?: string;
  /** access JWT lifetime; default 900 (15 min) */
  accessTtlSec?: number;
  /** one refresh token's lifetime (each rotation issues a new one); default 14 days */
  refreshTtlSec?: number;
  /** absolute lifetime of a login session, whatever the rotations; default 30 days */
  sessionMaxSec?: number;
  /** age at which the JWT signing key is replaced; default 30 days */
  keyRotationSec?: number;
  /** JWT `iss` and `aud`; default 'bourse' */
  issuer?: string;
  audience?: string;
  lockout?: Partial<LockoutPolicy>;
  argon2?: Partial<Argon2Params>;
  maxApiKeysPerUser?: number;
  maxActiveAlertsPerUser?: number;
  /** brokerage for self-registration; default the seeded 'Bourse Direct' */
  defaultBrokerageId?: string;
}

export interface ResolvedUsersConfig {
  accessTtlSec: number;
  refreshTtlSec: number;
  sessionMaxSec: number;
  keyRotationSec: number;
  issuer: string;
  audience: string;
  lockout: LockoutPolicy;
  argon2: Argon2Params;
  maxApiKeysPerUser: number;
  maxActiveAlertsPerUser: number;
  defaultBrokerageId: string;
}

/** Seeded by migrations/002_users.sql. */
export const DEFAULT_BROKERAGE_ID = '00000000-0000-4000-8000-000000000001';

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isSafeInteger(x) || x <= 0) throw new Error(`users config: ${name} must be a positive integer`);
  return x;
}

export function resolveConfig(c: UsersConfig): ResolvedUsersConfig {
  const accessTtlSec = positiveInt('accessTtlSec', c.accessTtlSec, 900);
  const refreshTtlSec = positiveInt('refreshTtlSec', c.refreshTtlSec, 14 * 86_400);
  const sessionMaxSec = positiveInt('sessionMaxSec', c.sessionMaxSec, 30 * 86_400);
  const keyRotationSec = positiveInt('keyRotationSec', c.keyRotationSec, 30 * 86_400);
  const argon2 = { ...OWASP_ARGON2ID, ...c.argon2 };
  return {
    accessTtlSec,
    refreshTtlSec,
    sessionMaxSec,
    keyRotationSec,
    issuer: c.issuer ?? 'bourse',
    audience: c.audience ?? 'bourse',
    lockout: {
      threshold: positiveInt('lockout.threshold', c.lockout?.threshold, 5),
      baseLockSec: positiveInt('lockout.baseLockSec', c.lockout?.baseLockSec, 1),
      maxLockSec: positiveInt('lockout.maxLockSec', c.lockout?.maxLockSec, 900),
      accountBurst: positiveInt('lockout.accountBurst', c.lockout?.accountBurst, 10),
      accountRefillSec: positiveInt('lockout.accountRefillSec', c.lockout?.accountRefillSec, 30),
      deviceTtlSec: positiveInt('lockout.deviceTtlSec', c.lockout?.deviceTtlSec, 90 * 86_400),
    },
    argon2: {
      memoryCost: positiveInt('argon2.memoryCost', argon2.memoryCost, OWASP_ARGON2ID.memoryCost),
      timeCost: positiveInt('argon2.timeCost', argon2.timeCost, OWASP_ARGON2ID.timeCost),
      parallelism: positiveInt('argon2.parallelism', argon2.parallelism, OWASP_ARGON2ID.parallelism),
    },
    maxApiKeysPerUser: positiveInt('maxApiKeysPerUser', c.maxApiKeysPerUser, 25),
    maxActiveAlertsPerUser: positiveInt('maxActiveAlertsPerUser', c.maxActiveAlertsPerUser, 100),
    defaultBrokerageId: c.defaultBrokerageId ?? DEFAULT_BROKERAGE_ID,
  };
}

/**
 * The gateway's settings. Every one has a default; `loadGatewayConfig(env)` reads the variables in
 * `gatewayConfigVariables` (the README's table can be generated from it) and reports every bad
 * value at once, naming its variable, like the platform's loadConfig.
 */
import type { UpstreamConfig } from '../platform/http/upstream/upstream.ts';
import type { BucketRule } from '../platform/ratelimit/types.ts';

/** Rate-limit classes: what a request costs against which bucket. */
export type RouteClass = 'orders' | 'reads' | 'login';

/** The balancer's settings (timeouts, retries, leader wait, health checks, breakers) come from UpstreamConfig. */
export interface GatewayConfig extends UpstreamConfig {
  /** token buckets per class, keyed per user / API key / IP */
  rateLimits: Record<RouteClass, BucketRule>;
  /** login attempts per client IP, on top of the `login` class */
  loginPerIp: BucketRule;
  /**
   * FIX logon attempts per API key. REST logins have no per-username limit here: the users
   * service throttles per (account, client) so that an attacker cannot keep the owner out.
   */
  loginPerUsername: BucketRule;
  /** how long a verified API key and an access token's session check stay trusted, ms */
  apiKeyCacheMs: number;
  sessionCheckMs: number;
  /** may-act-for answers for brokers and admins, ms */
  actingCacheMs: number;
  /** quotes / book snapshots and instruments in the cache, ms (invalidated by bus events first) */
  quoteTtlMs: number;
  instrumentsTtlMs: number;
  /** expected JWT `iss` / `aud` (the users service's) */
  jwtIssuer: string;
  jwtAudience: string;
  /** trust X-Forwarded-For from a load balancer in front (Fastify trustProxy) */
  trustProxy: boolean;
  /** close(): how long requests in flight may finish before their upstream calls are ended (503), ms */
  shutdownTimeoutMs: number;
}

export const DEFAULT_GATEWAY_CONFIG: GatewayConfig = {
  rateLimits: {
    orders: { capacity: 50, refillPerSec: 25 },
    reads: { capacity: 200, refillPerSec: 100 },
    login: { capacity: 10, refillPerSec: 1 },
  },
  loginPerIp: { capacity: 20, refillPerSec: 0.2 },
  loginPerUsername: { capacity: 5, refillPerSec: 1 / 60 },
  upstreamTimeoutMs: 10_000,
  upstreamConnections: 64,
  retryAttempts: 3,
  retryBaseMs: 50,
  leaderWaitMs: 5_000,
  healthIntervalMs: 5_000,
  healthFall: 2,
  healthRise: 2,
  breakerErrorPercent: 50,
  breakerVolumeThreshold: 5,
  breakerResetMs: 5_000,
  apiKeyCacheMs: 30_000,
  sessionCheckMs: 5_000,
  actingCacheMs: 30_000,
  quoteTtlMs: 1_000,
  instrumentsTtlMs: 1_000,
  jwtIssuer: 'bourse',
  jwtAudience: 'bourse',
  trustProxy: false,
  shutdownTimeoutMs: 10_000,
};

/** A partial config whose rate limits may name only some classes. */
export type GatewayConfigInput = Partial<Omit<GatewayConfig, 'rateLimits'>> & {
  rateLimits?: Partial<Record<RouteClass, BucketRule>>;
};

export function resolveGatewayConfig(input: GatewayConfigInput = {}): GatewayConfig {
  return {
    ...DEFAULT_GATEWAY_CONFIG,
    ...input,
    rateLimits: { ...DEFAULT_GATEWAY_CONFIG.rateLimits, ...input.rateLimits },
  };
}

export interface GatewayConfigVariable {
  name: string;
  default: string;
  description: string;
}

const rule = (r: BucketRule): string => `${r.capacity}/${r.refillPerSec}`;
const D = DEFAULT_GATEWAY_CONFIG;

export const gatewayConfigVariables: readonly GatewayConfigVariable[] = [
  {
    name: 'BOURSE_RATE_ORDERS',
    default: rule(D.rateLimits.orders),
    description: 'Order requests per user: bucket capacity/refill per second.',
  },
  {
    name: 'BOURSE_RATE_READS',
    default: rule(D.rateLimits.reads),
    description: 'Reads per user: capacity/refill.',
  },
  {
    name: 'BOURSE_RATE_LOGIN',
    default: rule(D.rateLimits.login),
    description: 'Login, refresh and registration requests per client: capacity/refill.',
  },
  {
    name: 'BOURSE_RATE_LOGIN_IP',
    default: rule(D.loginPerIp),
    description: 'Login attempts per IP: capacity/refill.',
  },
  {
    name: 'BOURSE_RATE_LOGIN_USER',
    default: rule(D.loginPerUsername),
    description:
      'FIX logon attempts per API key: capacity/refill. (REST logins are throttled per account and client by the users service.)',
  },
  {
    name: 'BOURSE_UPSTREAM_TIMEOUT_MS',
    default: String(D.upstreamTimeoutMs),
    description: 'Gateway (and market-data, reporting, fix) → service call timeout, per attempt.',
  },
  {
    name: 'BOURSE_HEALTH_INTERVAL_MS',
    default: String(D.healthIntervalMs),
    description:
      'How often the gateway (and market-data, reporting, fix, for the orders and users instances they call) checks each instance’s /healthz.',
  },
  {
    name: 'BOURSE_LEADER_WAIT_MS',
    default: String(D.leaderWaitMs),
    description:
      'How long a request waits for an orders shard to have a leader again (a takeover under way) before the gateway answers 503 (market-data, reporting, fix: before their call fails as unavailable).',
  },
  {
    name: 'BOURSE_TRUST_PROXY',
    default: 'off',
    description: "'on' behind a load balancer: take the client IP from X-Forwarded-For.",
  },
];

class Invalid {
  constructor(readonly expected: string) {}
}

function parseRule(raw: string): BucketRule | Invalid {
  const m = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(raw);
  const capacity = Number(m?.[1]);
  const refillPerSec = Number(m?.[2]);
  return m && capacity >= 1 && refillPerSec > 0
    ? { capacity, refillPerSec }
    : new Invalid('expected capacity/refill-per-second, e.g. 50/25');
}

function parseMs(raw: string): number | Invalid {
  const n = Number(raw);
  return /^\d+$/.test(raw) && n >= 1 && n <= 3_600_000
    ? n
    : new Invalid('expected milliseconds, 1 to 3600000');
}

/** The gateway's configuration from the environment; unset or empty variables keep the defaults. */
export function loadGatewayConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): GatewayConfig {
  const problems: string[] = [];
  const read = <T>(name: string, parse: (raw: string) => T | Invalid): T | undefined => {
    const raw = env[name]?.trim();
    if (!raw) return undefined;
    const value = parse(raw);
    if (!(value instanceof Invalid)) return value;
    problems.push(`${name}=${JSON.stringify(raw)}: ${value.expected}`);
    return undefined;
  };
  const orders = read('BOURSE_RATE_ORDERS', parseRule);
  const reads = read('BOURSE_RATE_READS', parseRule);
  const login = read('BOURSE_RATE_LOGIN', parseRule);
  const config = resolveGatewayConfig({
    rateLimits: {
      ...(orders && { orders }),
      ...(reads && { reads }),
      ...(login && { login }),
    },
  });
  config.loginPerIp = read('BOURSE_RATE_LOGIN_IP', parseRule) ?? config.loginPerIp;
  config.loginPerUsername = read('BOURSE_RATE_LOGIN_USER', parseRule) ?? config.loginPerUsername;
  config.upstreamTimeoutMs = read('BOURSE_UPSTREAM_TIMEOUT_MS', parseMs) ?? config.upstreamTimeoutMs;
  config.healthIntervalMs = read('BOURSE_HEALTH_INTERVAL_MS', parseMs) ?? config.healthIntervalMs;
  config.leaderWaitMs = read('BOURSE_LEADER_WAIT_MS', parseMs) ?? config.leaderWaitMs;
  const trust = read('BOURSE_TRUST_PROXY', (raw) =>
    raw === 'on' ? true : raw === 'off' ? false : new Invalid("expected 'on' or 'off'"),
  );
  config.trustProxy = trust ?? config.trustProxy;
  if (problems.length > 0) throw new Error(`Invalid gateway configuration:\n  ${problems.join('\n  ')}`);
  return config;
}

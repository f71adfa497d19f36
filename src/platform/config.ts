import { join, resolve } from 'node:path';
import { parseInternalTokens } from './http/forwarded-identity.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  port: number;
  host: string;
  /** Absolute. */
  dataDir: string;
  /** PostgreSQL when set, else embedded PGlite in `pgliteDir`. */
  databaseUrl: string | undefined;
  pgliteDir: string;
  /** Redis when set, else in-memory cache and rate limits. */
  redisUrl: string | undefined;
  /** NATS JetStream when set, else the in-process bus. */
  natsUrl: string | undefined;
  natsStream: string;
  /** prepended to every subject (`<prefix>.md.trade.X`); unset: none, as before it existed */
  natsPrefix: string | undefined;
  /** copies of the stream and its durable consumers on a NATS cluster (1 on a single server) */
  natsReplicas: number;
  logLevel: LogLevel;
  demo: boolean;
  /** commands a second the demo's traders send, about */
  demoRate: number;
  seed: number;
  commitMaxBatch: number;
  /** the orders service's journal, snapshots and idempotency window (read by it from the environment too) */
  orders: {
    projectMaxBatch: number;
    projectGatherMs: number;
    snapshotEvery: number;
    snapshotIntervalMs: number;
    idempotencyWindowMs: number;
    idempotencyMaxKeys: number;
    /** journal commands kept in the table behind the newest (older ones archived); null: all */
    journalRetain: number | null;
    /** Absolute. Where archived journal segments go. */
    archiveDir: string;
    /** the shard a `--role orders` process leads or stands by for (issue 11; one shard for now) */
    shard: number;
    /** how many shards a `--role orders-shard` cluster has */
    shards: number;
    /** how long a paused shard leader keeps its lock before the standby may take over */
    leaseMs: number;
  };
  /** BOURSE_INSTANCE_ID: this process's stable name, for its own durable consumers */
  instanceId: string | undefined;
  /** master secret for token and key encryption; embedded default: generated into dataDir */
  secret: string | undefined;
  /** creates the first admin user when set and no admin exists */
  adminPassword: string | undefined;
  /** FIX 4.4 order-entry port; null: no FIX listener */
  fixPort: number | null;
  /** how long a graceful stop lets requests in flight finish before ending them, ms */
  shutdownTimeoutMs: number;
  /**
   * the internal APIs' token(s): the first is sent, all are accepted (rotation); unset: derived from
   * `secret` (and in the all-in-one process from the generated one)
   */
  internalTokens: string[] | undefined;
  /** mutual TLS between processes: PEM file paths; all three or none */
  internalTls: InternalTlsFiles | undefined;
  /** bearer token(s) for `/metrics`; the internal token is accepted too */
  metricsTokens: string[] | undefined;
}

export interface InternalTlsFiles {
  /** CA that signed every process's certificate (servers require a client certificate it signed) */
  ca: string;
  cert: string;
  key: string;
}

/** Shortest token accepted: as long as the derived one's 32 random bytes in base64url. */
export const TOKEN_MIN_LENGTH = 32;

export interface ConfigVariable {
  name: string;
  /** As shown to people; undefined when unset means "use the embedded default". */
  default: string | undefined;
  description: string;
}

/** Every variable Bourse reads; the README's configuration table is generated from this. */
export const configVariables: readonly ConfigVariable[] = [
  { name: 'PORT', default: '8080', description: 'HTTP port to listen on (0: any free port).' },
  { name: 'HOST', default: '0.0.0.0', description: 'Interface to listen on.' },
  {
    name: 'BOURSE_DATA_DIR',
    default: './data',
    description: 'Where the embedded defaults keep their files (PGlite database).',
  },
  {
    name: 'DATABASE_URL',
    default: undefined,
    description:
      'PostgreSQL URL (postgres://user:pass@host:5432/db). Unset: embedded PGlite in BOURSE_DATA_DIR/pglite.',
  },
  {
    name: 'REDIS_URL',
    default: undefined,
    description: 'Redis URL (redis://host:6379) for the shared cache and rate limits. Unset: in memory.',
  },
  {
    name: 'NATS_URL',
    default: undefined,
    description:
      "NATS server(s) with JetStream (nats://host:4222, comma-separated). Unset: in-process bus. `--role gateway` reads only the orders events for /stream's trade_updates from it (unset: /stream has no trade_updates).",
  },
  {
    name: 'BOURSE_NATS_STREAM',
    default: 'BOURSE',
    description:
      'JetStream stream holding the ordinary events (md.>, orders.exec.>, users.>, news.>, …; one per ' +
      'deployment), with <stream>_KEPT holding orders.shard.> until consumed. With ' +
      'BOURSE_NATS_PREFIX and no stream given: BOURSE_<prefix>.',
  },
  {
    name: 'BOURSE_NATS_PREFIX',
    default: undefined,
    description:
      'Subject prefix (staging → staging.md.trade.AAPL), so that several deployments share one NATS ' +
      'server without seeing each other’s events. Letters, digits, _ and -, dot-separated. Unset: none.',
  },
  {
    name: 'BOURSE_NATS_REPLICAS',
    default: '1',
    description:
      'Copies JetStream keeps of the stream and of its durable consumers (1 to 5): 1 on a single NATS ' +
      'server, 3 on a 3-node cluster so that losing a node loses no event. Applied at every start ' +
      '(the stream is updated to it).',
  },
  { name: 'LOG_LEVEL', default: 'info', description: `Log level: ${LOG_LEVELS.join(', ')}.` },
  { name: 'BOURSE_DEMO', default: 'on', description: "Demo market with simulated traders: 'on' or 'off'." },
  {
    name: 'BOURSE_DEMO_RATE',
    default: '5',
    description:
      'About how many orders a second (new, replace, cancel) the demo traders send across all symbols; at 5 the idle demo grows the data folder by about 300 MB a day (README, Operations).',
  },
  { name: 'BOURSE_SEED', default: '42', description: 'Seed of the demo market, so a run can be reproduced.' },
  {
    name: 'BOURSE_COMMIT_MAX_BATCH',
    default: '2000',
    description: 'Most commands the orders service commits in one transaction (group commit).',
  },
  {
    name: 'BOURSE_PROJECT_MAX_BATCH',
    default: '20000',
    description:
      'Most journal entries the orders projector writes to the derived tables (orders, trades, balances…) in one transaction.',
  },
  {
    name: 'BOURSE_PROJECT_GATHER_MS',
    default: '50',
    description:
      'How long the orders projector gathers journal entries before writing them, unless a read waits for the tables (0: at once).',
  },
  {
    name: 'BOURSE_SNAPSHOT_EVERY',
    default: '100000',
    description:
      'Orders engine snapshot every this many commands (0: never by count); restart = snapshot + journal after it.',
  },
  {
    name: 'BOURSE_SNAPSHOT_INTERVAL_MS',
    default: '300000',
    description: 'Orders engine snapshot at least this often (ms) while commands come in (0: never by time).',
  },
  {
    name: 'BOURSE_IDEMPOTENCY_WINDOW_MS',
    default: '86400000',
    description:
      'How long a client_order_id or Idempotency-Key returns the original outcome (24 h); after it the key may be used again.',
  },
  {
    name: 'BOURSE_IDEMPOTENCY_MAX_KEYS',
    default: '1000000',
    description:
      'Most idempotency keys the orders service holds in memory; keys beyond it (within the window) are looked up in the database.',
  },
  {
    name: 'BOURSE_JOURNAL_RETAIN',
    default: '100000',
    description:
      "Orders journal commands kept in the database behind the newest; older ones, once a kept snapshot covers them and they are older than the idempotency window, move to gzip'd segment files in BOURSE_ARCHIVE_DIR ('all': never).",
  },
  {
    name: 'BOURSE_ARCHIVE_DIR',
    default: undefined,
    description:
      'Where archived orders journal segments go (read by `bourse verify` and audits, never by recovery). Unset: BOURSE_DATA_DIR/journal-archive.',
  },
  {
    name: 'BOURSE_INSTANCE_ID',
    default: undefined,
    description:
      "This process's stable name in a cluster (letters, digits, _ and -; e.g. a StatefulSet pod's). With it, consumers that every instance runs on every event (market data's trades, users' price alerts) are NATS durable consumers of its own, so a restarted instance catches up on what it missed. Unset: those are live subscriptions.",
  },
  {
    name: 'BOURSE_ORDERS_SHARD',
    default: '0',
    description:
      'The orders shard a `--role orders` process on PostgreSQL leads, or follows as its hot standby until the leader dies; with `--role orders-shard`, the shard (below BOURSE_ORDERS_SHARDS) it leads or stands by for.',
  },
  {
    name: 'BOURSE_ORDERS_SHARDS',
    default: '1',
    description:
      'How many orders shards a `--role orders-shard` cluster has (risk by account and matching by symbol, docs/design.md "Orders shards"); each such process serves BOURSE_ORDERS_SHARD, as its leader or standby. Every process of the cluster must be given the same number.',
  },
  {
    name: 'BOURSE_ORDERS_LEASE_MS',
    default: '5000',
    description:
      "How long an orders shard leader that stops answering (paused, cut off) keeps its lock; then the database ends its session and a standby takes over. The old leader's commits are refused from then on (fencing). The market-data leader (simulated feeds, bars) has the same lease.",
  },
  {
    name: 'BOURSE_SECRET',
    default: undefined,
    description:
      'Master secret (32+ characters) that encrypts JWT signing keys and keys API-key and refresh-token hashes. Unset: generated into BOURSE_DATA_DIR/secret (mode 0600).',
  },
  {
    name: 'BOURSE_ADMIN_PASSWORD',
    default: undefined,
    description:
      "Creates the first admin user ('admin') with this password if none exists. Unset: no admin is created.",
  },
  {
    name: 'BOURSE_FIX_PORT',
    default: '9878',
    description:
      "FIX 4.4 order-entry port of `bourse start` and `--role fix` (0: any free port, 'off': no FIX listener).",
  },
  {
    name: 'BOURSE_SHUTDOWN_TIMEOUT_MS',
    default: '10000',
    description:
      'On SIGTERM/SIGINT, how long requests in flight may finish; then the gateway ends its upstream calls (they answer 503) and the process exits, at the latest 5 s later.',
  },
  {
    name: 'BOURSE_INTERNAL_TOKEN',
    default: undefined,
    description:
      'Token every internal API (the services behind the gateway) requires, 32+ characters. Comma-separated while rotating: the first is sent, all are accepted. Unset: derived from BOURSE_SECRET; a `--role` process without either refuses to start.',
  },
  {
    name: 'BOURSE_INTERNAL_TLS_CA',
    default: undefined,
    description:
      'Mutual TLS between processes: PEM file of the CA. With _CERT and _KEY, a `--role` service serves HTTPS and requires a client certificate signed by it, and clients present theirs.',
  },
  {
    name: 'BOURSE_INTERNAL_TLS_CERT',
    default: undefined,
    description: "Mutual TLS: PEM file of this process's certificate (server and client).",
  },
  {
    name: 'BOURSE_INTERNAL_TLS_KEY',
    default: undefined,
    description: "Mutual TLS: PEM file of this process's private key.",
  },
  {
    name: 'BOURSE_METRICS_TOKEN',
    default: undefined,
    description:
      'Bearer token(s) for `GET /metrics` (comma-separated; the internal token also works). Unset: only the internal token.',
  },
];

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** What a parser returns for a bad value: the expectation, for the error message. */
class Invalid {
  constructor(readonly expected: string) {}
}
type Parse<T> = (raw: string) => T | Invalid;

/**
 * Reads and validates the environment. All problems are reported at once, each naming its
 * variable. An empty variable counts as unset, so `DATABASE_URL=` means "embedded".
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const defaults = new Map(configVariables.map((v) => [v.name, v.default]));
  const read = <T>(name: string, parse: Parse<T>): T | undefined => {
    const raw = env[name]?.trim() || defaults.get(name);
    if (raw === undefined) return undefined;
    const value = parse(raw);
    if (!(value instanceof Invalid)) return value;
    // a secret's value never reaches an error message (they end up in logs)
    const shown = /SECRET|TOKEN|PASSWORD/.test(name) ? '(hidden)' : JSON.stringify(raw);
    problems.push(`${name}=${shown}: ${value.expected}`);
    return undefined;
  };

  const dataDir = resolve(read('BOURSE_DATA_DIR', text) ?? './data');
  const config = {
    port: read('PORT', integer(0, 65_535)), // 0 = any free port (tests)
    host: read('HOST', text),
    dataDir,
    databaseUrl: read('DATABASE_URL', urls(['postgres:', 'postgresql:'], 1)),
    pgliteDir: join(dataDir, 'pglite'),
    redisUrl: read('REDIS_URL', urls(['redis:', 'rediss:'], 1)),
    natsUrl: read('NATS_URL', urls(['nats:', 'tls:', 'ws:', 'wss:'], Number.POSITIVE_INFINITY)),
    natsStream: read('BOURSE_NATS_STREAM', matches(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')),
    natsPrefix: read(
      'BOURSE_NATS_PREFIX',
      matches(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'letters, digits, _ and -, dot-separated tokens'),
    ),
    natsReplicas: read('BOURSE_NATS_REPLICAS', integer(1, 5)),
    logLevel: read('LOG_LEVEL', oneOf(LOG_LEVELS)),
    demo: read('BOURSE_DEMO', (raw) =>
      raw === 'on' ? true : raw === 'off' ? false : new Invalid("expected 'on' or 'off'"),
    ),
    demoRate: read('BOURSE_DEMO_RATE', integer(1, 10_000)),
    seed: read('BOURSE_SEED', integer(0, Number.MAX_SAFE_INTEGER)),
    commitMaxBatch: read('BOURSE_COMMIT_MAX_BATCH', integer(1, 100_000)),
    orders: {
      projectMaxBatch: read('BOURSE_PROJECT_MAX_BATCH', integer(1, 1_000_000)),
      projectGatherMs: read('BOURSE_PROJECT_GATHER_MS', integer(0, 60_000)),
      snapshotEvery: read('BOURSE_SNAPSHOT_EVERY', integer(0, Number.MAX_SAFE_INTEGER)),
      snapshotIntervalMs: read('BOURSE_SNAPSHOT_INTERVAL_MS', integer(0, Number.MAX_SAFE_INTEGER)),
      idempotencyWindowMs: read('BOURSE_IDEMPOTENCY_WINDOW_MS', integer(0, Number.MAX_SAFE_INTEGER)),
      idempotencyMaxKeys: read('BOURSE_IDEMPOTENCY_MAX_KEYS', integer(1, 100_000_000)),
      journalRetain: read('BOURSE_JOURNAL_RETAIN', (raw) =>
        raw === 'all'
          ? null
          : integer(0, Number.MAX_SAFE_INTEGER)(raw) instanceof Invalid
            ? new Invalid("expected a number of commands, or 'all'")
            : Number(raw),
      ),
      archiveDir: resolve(read('BOURSE_ARCHIVE_DIR', text) ?? join(dataDir, 'journal-archive')),
      shard: read('BOURSE_ORDERS_SHARD', integer(0, 1_000_000)),
      shards: read('BOURSE_ORDERS_SHARDS', integer(1, 1024)),
      leaseMs: read('BOURSE_ORDERS_LEASE_MS', integer(100, 600_000)),
    },
    instanceId: read('BOURSE_INSTANCE_ID', (raw) =>
      /^[A-Za-z0-9_-]{1,64}$/.test(raw) ? raw : new Invalid('letters, digits, _ and - (at most 64)'),
    ),
    secret: read('BOURSE_SECRET', (raw) => (raw.length >= 32 ? raw : new Invalid('at least 32 characters'))),
    adminPassword: read('BOURSE_ADMIN_PASSWORD', text),
    fixPort: read('BOURSE_FIX_PORT', (raw) =>
      raw === 'off'
        ? null
        : integer(0, 65_535)(raw) instanceof Invalid
          ? new Invalid("expected a port from 0 to 65535, or 'off'")
          : Number(raw),
    ),
    shutdownTimeoutMs: read('BOURSE_SHUTDOWN_TIMEOUT_MS', integer(1, 3_600_000)),
    internalTokens: read('BOURSE_INTERNAL_TOKEN', tokens),
    internalTls: undefined as InternalTlsFiles | undefined,
    metricsTokens: read('BOURSE_METRICS_TOKEN', tokens),
  };
  const tlsFiles = {
    ca: read('BOURSE_INTERNAL_TLS_CA', text),
    cert: read('BOURSE_INTERNAL_TLS_CERT', text),
    key: read('BOURSE_INTERNAL_TLS_KEY', text),
  };
  const tlsSet = Object.values(tlsFiles).filter((v) => v !== undefined).length;
  if (tlsSet === 3) config.internalTls = tlsFiles as InternalTlsFiles;
  else if (tlsSet > 0)
    problems.push('BOURSE_INTERNAL_TLS_CA, _CERT and _KEY: set all three (mutual TLS) or none');
  if (problems.length > 0) throw new ConfigError(problems);
  // two deployments on one server need two streams too: streams may not overlap in subjects
  if (config.natsPrefix !== undefined && !env.BOURSE_NATS_STREAM?.trim()) {
    config.natsStream = `BOURSE_${config.natsPrefix.replaceAll('.', '_')}`;
  }
  // Every field is either valid or defaulted once no problem was found.
  return config as Config;
}

const text: Parse<string> = (raw) => raw;

/** Comma-separated tokens (current first, then the next one while rotating), each long enough. */
const tokens: Parse<string[]> = (raw) => {
  const list = parseInternalTokens(raw);
  return list.length > 0 && list.every((t) => t.length >= TOKEN_MIN_LENGTH && /^[\x21-\x7e]+$/.test(t))
    ? list
    : new Invalid(`expected comma-separated tokens of ${TOKEN_MIN_LENGTH}+ printable characters`);
};

function integer(min: number, max: number): Parse<number> {
  return (raw) => {
    const n = Number(raw);
    return /^-?\d+$/.test(raw) && n >= min && n <= max
      ? n
      : new Invalid(`expected an integer from ${min} to ${max}`);
  };
}

function oneOf<T extends string>(values: readonly T[]): Parse<T> {
  return (raw) =>
    values.includes(raw as T) ? (raw as T) : new Invalid(`expected one of ${values.join(', ')}`);
}

function matches(pattern: RegExp, expected: string): Parse<string> {
  return (raw) => (pattern.test(raw) ? raw : new Invalid(`expected ${expected}`));
}

/** A URL, or up to `max` comma-separated URLs, with one of the given schemes. */
function urls(protocols: readonly string[], max: number): Parse<string> {
  const expected = `expected ${max > 1 ? 'comma-separated URLs' : 'a URL'} like ${protocols[0]}//host:port`;
  return (raw) => {
    const parts = raw.split(',').map((part) => part.trim());
    const valid = (part: string) => URL.canParse(part) && protocols.includes(new URL(part).protocol);
    return parts.length <= max && parts.every(valid) ? raw : new Invalid(expected);
  };
}

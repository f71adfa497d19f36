/**
 * The users service: users and brokerages (tenants), login sessions, API keys, notifications and
 * price alerts. `createUsersService(deps)` wires it; `register(app)` mounts its routes as one
 * encapsulated Fastify plugin; `client` is the in-process UsersClient.
 */
import websocket from '@fastify/websocket';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Bus } from '../../platform/bus/types.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import { createMemoryRateLimiter } from '../../platform/ratelimit/memory.ts';
import type { RateLimiter } from '../../platform/ratelimit/types.ts';
import { subjects } from '../orders/events.ts';
import { createAlerts } from './alerts.ts';
import { createApiKeys } from './api-keys.ts';
import type { UsersClient } from './client.ts';
import { resolveConfig, type UsersConfig } from './config.ts';
import type { UsersContext } from './context.ts';
import { createDeviceTokens } from './devices.ts';
import { allNotifications, type NotificationMessage } from './events.ts';
import { createAuthenticator } from './identity.ts';
import { createInProcessClient } from './in-process-client.ts';
import { createInvites } from './invites.ts';
import { createKeyRing } from './keys.ts';
import { createInbox } from './notifications.ts';
import { notificationFromExec } from './order-notifications.ts';
import { createPasswordHasher } from './passwords.ts';
import { installProblemHandlers } from './problems.ts';
import { createPushHub } from './push.ts';
import { alertRoutes } from './routes-alerts.ts';
import { apiKeyRoutes } from './routes-api-keys.ts';
import { authRoutes } from './routes-auth.ts';
import { brokerageRoutes } from './routes-brokerages.ts';
import { internalRoutes } from './routes-internal.ts';
import { notificationRoutes } from './routes-notifications.ts';
import { usersRoutes } from './routes-users.ts';
import { watchlistRoutes } from './routes-watchlists.ts';
import { deriveKeys, resolveSecret } from './secret.ts';
import { createSessions } from './sessions.ts';
import { streamRoutes } from './stream.ts';
import { createLoginThrottle } from './throttle.ts';
import { createAccessTokens } from './tokens.ts';
import { validatorCompiler } from './validation.ts';
import { watchlistStore } from './watchlists.ts';

export { DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_USERNAME, ensureAdmin } from './admin.ts';
export type { Identity, Role, UsersClient, UserView, VerifiedIdentity } from './client.ts';
export { createHttpUsersClient } from './client.ts';
export { DEFAULT_BROKERAGE_ID, type UsersConfig } from './config.ts';
export type { NotificationMessage, NotificationView } from './events.ts';

export interface UsersServiceDeps {
  db: Db;
  bus: Bus;
  clock: Clock;
  logger: FastifyBaseLogger;
  config: UsersConfig;
  /**
   * Login throttling state (throttle.ts): the platform limiter, Redis in a cluster so that every
   * instance sees the same attempts. Absent: buckets in this process (the single-process default).
   */
  limiter?: RateLimiter;
}

export interface UsersService {
  /** Mounts the routes (awaits the registration). `prefix` e.g. '/api'. */
  register(app: FastifyInstance, opts?: { prefix?: string }): Promise<void>;
  client: UsersClient;
  /** For the HTTP UsersClient of other processes (createHttpUsersClient's internalToken). */
  internalToken: string;
  /** Replaces the JWT signing key now; the old one keeps verifying for one token lifetime. */
  rotateSigningKey(): Promise<string>;
  /** Resolves when every bus event received so far has been processed (tests, shutdown). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const MAINTENANCE_MS = 3_600_000;
const BODY_LIMIT_BYTES = 64 * 1024;

export async function createUsersService(deps: UsersServiceDeps): Promise<UsersService> {
  const { db, bus, clock } = deps;
  const logger = deps.logger;
  const ownsLimiter = deps.limiter === undefined;
  const limiter = deps.limiter ?? createMemoryRateLimiter({ clock });
  const config = resolveConfig(deps.config);
  const secret = await resolveSecret(deps.config, logger);
  const derived = deriveKeys(secret);
  const internalTokens = deps.config.internalTokens?.length
    ? deps.config.internalTokens
    : [derived.internalToken];

  const keys = createKeyRing({
    db,
    clock,
    logger,
    encryptionKey: derived.keyEncryption,
    rotationSec: config.keyRotationSec,
    accessTtlSec: config.accessTtlSec,
  });
  await keys.rotate(false);
  const tokens = createAccessTokens({
    keys,
    clock,
    issuer: config.issuer,
    audience: config.audience,
    ttlSec: config.accessTtlSec,
  });
  const sessions = createSessions({
    db,
    clock,
    pepper: derived.credentialPepper,
    refreshTtlSec: config.refreshTtlSec,
    sessionMaxSec: config.sessionMaxSec,
  });
  const apiKeys = createApiKeys({
    db,
    clock,
    pepper: derived.credentialPepper,
    maxPerUser: config.maxApiKeysPerUser,
  });
  const inbox = createInbox({ db, bus, clock, logger });
  const alerts = createAlerts({ db, clock, logger, inbox, maxActivePerUser: config.maxActiveAlertsPerUser });
  const hub = createPushHub(logger);

  const ctx: UsersContext = {
    db,
    bus,
    clock,
    logger,
    config,
    hasher: createPasswordHasher(config.argon2),
    throttle: createLoginThrottle({
      limiter,
      clock,
      policy: config.lockout,
      pepper: derived.credentialPepper,
    }),
    devices: createDeviceTokens(derived.deviceTokenKey, config.lockout.deviceTtlSec),
    sessions,
    tokens,
    keys,
    apiKeys,
    invites: createInvites({ clock, pepper: derived.credentialPepper }),
    auth: createAuthenticator({ tokens, sessions, apiKeys }),
    inbox,
    alerts,
    watchlists: watchlistStore(db, clock),
    hub,
    internalTokens,
  };

  // Notifications are written once per cluster and must survive a users outage: a durable consumer
  // shared by every users instance (each event to one of them, acknowledged once written;
  // duplicates are dropped by the notification's dedupe key). Alerts: per instance (below).
  // Pushing to connected clients is per instance and only for the live: a plain subscription.
  const unsubscribe = await Promise.all([
    bus.subscribe(
      subjects.allExec,
      (msg) => {
        const n = notificationFromExec(msg.subject, msg.data);
        // acknowledged once written; waiting for its own batch (not inbox.idle(), which starts the
        // write at once) keeps the writes batched: one INSERT per 50 ms, not one per event
        if (n) return inbox.enqueue(n);
      },
      { durable: 'users-notifications' },
    ),
    bus.subscribe(
      subjects.allTrades,
      (msg) => {
        const t = msg.data as { symbol?: unknown; price?: unknown };
        const symbol = msg.subject.slice('md.trade.'.length);
        if (t?.symbol === symbol && Number.isSafeInteger(t.price) && (t.price as number) > 0) {
          alerts.onTrade(symbol, t.price as number);
          return alerts.idle();
        }
      },
      // every instance checks every trade against the thresholds it caches (alerts.ts): a durable
      // consumer per instance, not a shared one
      deps.config.instanceId ? { durable: `users-alerts-${deps.config.instanceId}` } : {},
    ),
    bus.subscribe<NotificationMessage>(allNotifications, (msg) => hub.deliver(msg.data)),
  ]);

  const maintenance = setInterval(() => {
    Promise.all([sessions.prune(), keys.rotate(false)]).catch((err: unknown) =>
      logger.warn({ err }, 'users maintenance failed'),
    );
  }, MAINTENANCE_MS);
  maintenance.unref();

  async function plugin(app: FastifyInstance): Promise<void> {
    app.setValidatorCompiler(validatorCompiler);
    installProblemHandlers(app);
    // no body here is legitimately larger than a few KiB: refuse big ones before parsing them
    app.addHook('onRoute', (route) => {
      route.bodyLimit ??= BODY_LIMIT_BYTES;
    });
    for (const routes of [
      usersRoutes,
      authRoutes,
      apiKeyRoutes,
      brokerageRoutes,
      notificationRoutes,
      alertRoutes,
      watchlistRoutes,
      streamRoutes,
      internalRoutes,
    ]) {
      await routes(app, ctx);
    }
  }

  let closed = false;
  return {
    async register(app, opts = {}) {
      // one @fastify/websocket per server: it listens to the server's 'upgrade' event, and two
      // listeners would both answer the same upgrade
      if (!app.hasPlugin('@fastify/websocket')) {
        await app.register(websocket, { options: { maxPayload: 16 * 1024 } });
      }
      await app.register(plugin, { prefix: opts.prefix ?? '' });
    },
    client: createInProcessClient(ctx),
    internalToken: internalTokens[0]!,
    rotateSigningKey: () => keys.rotate(true),
    async idle() {
      await inbox.idle();
      await alerts.idle();
      await inbox.idle();
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(maintenance);
      alerts.close();
      hub.closeAll(1001, 'server shutting down');
      await Promise.all(unsubscribe.map((u) => u()));
      await inbox.idle();
      await alerts.idle();
      if (ownsLimiter) await limiter.close();
    },
  };
}

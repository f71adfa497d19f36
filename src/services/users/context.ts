/** What the routes and consumers share: built once by createUsersService, passed down explicitly. */
import type { FastifyBaseLogger } from 'fastify';
import type { Bus } from '../../platform/bus/types.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import type { Alerts } from './alerts.ts';
import type { ApiKeys } from './api-keys.ts';
import type { ResolvedUsersConfig } from './config.ts';
import type { DeviceTokens } from './devices.ts';
import type { Authenticator } from './identity.ts';
import type { Invites } from './invites.ts';
import type { KeyRing } from './keys.ts';
import type { Inbox } from './notifications.ts';
import type { PasswordHasher } from './passwords.ts';
import type { PushHub } from './push.ts';
import type { Sessions } from './sessions.ts';
import type { LoginThrottle } from './throttle.ts';
import type { AccessTokens } from './tokens.ts';
import type { Watchlists } from './watchlists.ts';

export interface UsersContext {
  db: Db;
  bus: Bus;
  clock: Clock;
  logger: FastifyBaseLogger;
  config: ResolvedUsersConfig;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  devices: DeviceTokens;
  sessions: Sessions;
  tokens: AccessTokens;
  keys: KeyRing;
  apiKeys: ApiKeys;
  invites: Invites;
  auth: Authenticator;
  inbox: Inbox;
  alerts: Alerts;
  watchlists: Watchlists;
  hub: PushHub;
  /** accepted on /internal routes: the one derived from the secret, or the configured list */
  internalTokens: readonly string[];
}

export const nowDate = (ctx: { clock: Clock }): Date => new Date(ctx.clock.now());

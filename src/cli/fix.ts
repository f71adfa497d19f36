/**
 * FIX 4.4 order entry in a `bourse start` process (`all`, or `--role fix`): the FIX service on
 * BOURSE_FIX_PORT in front of the orders service's client. Logon attempts draw on the same limits
 * as the REST login (BOURSE_RATE_LOGIN_IP per address, BOURSE_RATE_LOGIN_USER per API key) and
 * order messages on BOURSE_RATE_ORDERS, in buckets of their own.
 */
import { loadGatewayConfig } from '../gateway/config.ts';
import { systemClock } from '../platform/clock.ts';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import type { RateLimiter } from '../platform/ratelimit/types.ts';
import { createFixService, type FixService } from '../services/fix/index.ts';
import type { OrdersClient } from '../services/orders/client.ts';
import type { UsersClient } from '../services/users/client.ts';
import type { Platform } from './platform.ts';

export async function startFix(
  config: Config & { fixPort: number },
  logger: Logger,
  platform: Platform,
  clients: { orders: OrdersClient; users: UsersClient },
  /** the process's limiter: FIX buckets have keys of their own in it */
  limiter: RateLimiter,
  closers: (() => Promise<void>)[],
): Promise<FixService> {
  const limits = loadGatewayConfig(process.env);
  const fix = await createFixService({
    db: platform.db,
    bus: platform.bus,
    clock: systemClock,
    logger,
    orders: clients.orders,
    users: clients.users,
    limiter,
    config: {
      port: config.fixPort,
      host: config.host,
      logonPerIp: limits.loginPerIp,
      logonPerKey: limits.loginPerUsername,
      orderRule: limits.rateLimits.orders,
    },
  });
  closers.push(() => fix.close());
  return fix;
}

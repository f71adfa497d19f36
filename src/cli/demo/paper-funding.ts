import type { Bus, Unsubscribe } from '../../platform/bus/types.ts';
import type { Logger } from '../../platform/logger.ts';
import type { OrdersClient } from '../../services/orders/client.ts';
import { allRegistrations, type UserRegisteredMessage } from '../../services/users/events.ts';

/** What a new demo user starts with, like a paper-trading account: $100,000.00. */
export const PAPER_CASH_CENTS = 100_000_00;

/**
 * Demo mode only: every newly registered investor gets paper cash, so a newcomer can trade at
 * once. The deposit is idempotent by user, so a redelivered event never pays twice. A durable
 * consumer shared by every process that funds: a registration while none runs is funded when one
 * starts again, and each registration by one of them (acknowledged once the deposit is answered).
 */
export async function startPaperFunding(
  bus: Bus,
  orders: OrdersClient,
  logger: Logger,
): Promise<Unsubscribe> {
  return bus.subscribe<UserRegisteredMessage>(
    allRegistrations,
    (msg) => {
      const { userId, role } = msg.data;
      if (role !== 'investor') return;
      return orders
        .deposit(userId, { amount: PAPER_CASH_CENTS, idempotencyKey: `paper-funding-${userId}` })
        .then(() => logger.info({ userId }, 'demo: paper cash deposited'))
        .catch((err: unknown) => logger.warn({ err, userId }, 'demo: paper funding failed'));
    },
    { durable: 'paper-funding' },
  );
}

import { systemClock } from '../platform/clock.ts';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import { createOrdersService } from '../services/orders/index.ts';
import { demoSymbols, setUpDemo } from './demo/market-maker.ts';
import { ordersVenue } from './demo/orders-venue.ts';
import { openPlatform } from './platform.ts';

/** Adds the demo instruments and funds the demo accounts; safe to run twice. */
export async function seed(config: Config, logger: Logger): Promise<void> {
  const platform = await openPlatform(config, logger, { migrate: true });
  const orders = await createOrdersService({
    db: platform.db,
    bus: platform.bus,
    clock: systemClock,
    logger,
  });
  try {
    await setUpDemo(ordersVenue(orders.client), demoSymbols);
    logger.info({ symbols: demoSymbols.map((s) => s.symbol) }, 'seeded');
  } finally {
    await orders.close();
    await platform.close();
  }
}

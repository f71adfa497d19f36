import { mkdir } from 'node:fs/promises';
import { openBus } from '../platform/bus/open.ts';
import type { Bus } from '../platform/bus/types.ts';
import type { Config } from '../platform/config.ts';
import { migrate } from '../platform/db/migrate.ts';
import { openDb } from '../platform/db/open.ts';
import type { Db } from '../platform/db/types.ts';
import { type Logger, redactUrl } from '../platform/logger.ts';

/** The shared infrastructure one process needs, opened from configuration. */
export interface Platform {
  db: Db;
  bus: Bus;
  close(): Promise<void>;
}

export async function openPlatform(
  config: Config,
  logger: Logger,
  opts: { migrate: boolean },
): Promise<Platform> {
  if (!config.databaseUrl) await mkdir(config.pgliteDir, { recursive: true });
  const db = await openDb(config, logger);
  logger.info(
    { db: db.kind, where: config.databaseUrl ? redactUrl(config.databaseUrl) : config.pgliteDir },
    'database open',
  );
  if (opts.migrate) {
    const result = await migrate(db);
    logger.info({ migrations: result }, 'migrations applied');
  }
  const bus = await openBus(config, logger);
  logger.info({ bus: bus.kind }, 'event bus open');
  return {
    db,
    bus,
    async close() {
      await bus.close();
      await db.close();
    },
  };
}

import type { Logger } from '../logger.ts';
import type { Db } from './types.ts';

export interface DbConfig {
  /** PostgreSQL when set; otherwise embedded PGlite. */
  databaseUrl?: string | undefined;
  /** PGlite's directory; in memory when absent (tests). */
  pgliteDir?: string | undefined;
}

/** Adapters are imported on demand: a PostgreSQL deployment never loads PGlite's WebAssembly. */
export async function openDb(config: DbConfig, logger?: Logger): Promise<Db> {
  if (config.databaseUrl) {
    const { openPostgres } = await import('./postgres.ts');
    return openPostgres({
      connectionString: config.databaseUrl,
      onIdleError: (err) => logger?.warn({ err }, 'idle PostgreSQL connection failed'),
    });
  }
  const { openPglite } = await import('./pglite.ts');
  return openPglite({ dataDir: config.pgliteDir });
}

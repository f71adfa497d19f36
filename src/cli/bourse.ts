#!/usr/bin/env node
/**
 * The `bourse` command.
 *
 *   bourse start [--role all|orders]   serve (all-in-one by default), until SIGTERM/SIGINT
 *   bourse cluster [--shards N]        the whole platform as local processes (3 NATS nodes, …)
 *   bourse migrate [--dry-run]         apply migrations/*.sql to the configured database
 *   bourse backup FILE                 a consistent copy of a (running) Bourse's database
 *   bourse restore FILE                bring a backup back into an empty data folder or database
 *   bourse seed                        add the demo instruments and fund the demo accounts
 *   bourse verify                      check the orders tables and snapshots against a full journal replay
 *   bourse import FILE [--symbol X]    stream a price file (CSV or JSON) to a running Bourse
 *
 * Configuration comes from the environment (see the README's table, or `bourse help`).
 */
import { parseArgs } from 'node:util';
import { ConfigError, configVariables, loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import type { ImportResponse } from './import.ts';
import { ROLES, type Role, start } from './start.ts';

/** after BOURSE_SHUTDOWN_TIMEOUT_MS, what the rest of the stop (database, bus) may still take */
const SHUTDOWN_GRACE_MS = 5_000;

const USAGE = `usage: bourse <command> [options]

commands:
  start [--role ${ROLES.join('|')}]   run Bourse (default: all services in one process)
  cluster [--shards N]         run the whole platform as local processes on loopback ports: 3 NATS
                               JetStream nodes (nats-server), orders leader + standby, 2 users,
                               2 market-data, 1 reporting, 2 gateways, on DATABASE_URL (default
                               postgres://127.0.0.1:5432/bourse_cluster, created) and REDIS_URL;
                               --shards N (2 to 16): N orders shard nodes (--role orders-shard),
                               each as leader + standby, instead of the one orders service
                               (default database bourse_cluster_shardsN);
                               prints the gateway URLs; Ctrl-C stops it all
  migrate [--dry-run]          apply database migrations and exit (--dry-run: list them only)
  backup FILE                  write a consistent copy of the database (journal and snapshots
                               included) to FILE, while Bourse runs; on PGlite through the running
                               Bourse as admin (BOURSE_ADMIN_PASSWORD or an admin API key)
  restore FILE                 load a backup into an empty data folder (BOURSE_DATA_DIR) or
                               database (DATABASE_URL); refuses a non-empty one
  seed                         add demo instruments and accounts and exit
  verify                       replay the whole orders journal and compare it with the derived
                               tables and the newest snapshot (exit 1 on a difference)
  import FILE [--symbol X] [--timeframe 1d|1h|15m|5m|1m] [--format csv|json]
         [--date-format auto|mdy|dmy] [--dry-run]
                               stream a price file (Yahoo, Stooq, long or wide CSV, JSON bars;
                               01/02/2000 is month first unless --date-format dmy; see
                               \`bourse import --help\`) into a running Bourse (BOURSE_URL, default
                               http://localhost:$PORT), as admin: BOURSE_ADMIN_PASSWORD, or an
                               admin's API key in BOURSE_API_KEY_ID / BOURSE_API_SECRET_KEY
  help                         this text and the configuration variables`;

/** Credentials for the CLI's calls to a running Bourse: an admin API key, or the admin's password. */
async function adminHeaders(base: string): Promise<Record<string, string>> {
  const env = process.env;
  if (env.BOURSE_API_KEY_ID && env.BOURSE_API_SECRET_KEY)
    return { 'apca-api-key-id': env.BOURSE_API_KEY_ID, 'apca-api-secret-key': env.BOURSE_API_SECRET_KEY };
  if (!env.BOURSE_ADMIN_PASSWORD)
    throw new Error(
      'set BOURSE_ADMIN_PASSWORD (or BOURSE_API_KEY_ID and BOURSE_API_SECRET_KEY) to import or back up',
    );
  const res = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: env.BOURSE_ADMIN_PASSWORD }),
  });
  if (!res.ok) throw new Error(`admin login at ${base} failed: HTTP ${res.status} ${await res.text()}`);
  return { authorization: `Bearer ${((await res.json()) as { access_token: string }).access_token}` };
}

async function runImport(rest: string[]): Promise<number> {
  const { parseImportArgs, importFile, importExitCode, fetchBody, UsageError, IMPORT_USAGE } = await import(
    './import.ts'
  );
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(IMPORT_USAGE);
    return 0;
  }
  try {
    const args = parseImportArgs(rest);
    const base = (process.env.BOURSE_URL ?? `http://localhost:${process.env.PORT || 8080}`).replace(
      /\/+$/,
      '',
    );
    const headers = await adminHeaders(base);
    const result = await importFile(args, async (query, body, contentType) => {
      const res = await fetch(`${base}/v1/market-data/import?${query}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': contentType },
        body: fetchBody(body),
        duplex: 'half',
      } as RequestInit);
      if (!res.ok) throw new Error(`HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as ImportResponse;
    });
    return importExitCode(result);
  } catch (err) {
    console.error(err instanceof UsageError ? err.message : `bourse import: ${(err as Error).message}`);
    return 2;
  }
}

async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  if (command === 'import') return runImport(rest);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      role: { type: 'string', default: 'all' },
      'dry-run': { type: 'boolean', default: false },
      shards: { type: 'string', default: '1' },
    },
  });
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    console.log('\nconfiguration (environment variables):');
    for (const v of configVariables)
      console.log(`  ${v.name.padEnd(24)} ${v.default ?? '(unset)'}  ${v.description}`);
    return 0;
  }

  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'bourse' });

  switch (command) {
    case 'start': {
      const role = values.role as Role;
      if (!ROLES.includes(role)) {
        console.error(`bourse: unknown role '${values.role}' (one of ${ROLES.join(', ')})`);
        return 2;
      }
      const running = await start(config, logger, role);
      console.log(`\n  Bourse is running (${role}) at ${running.url}\n`);
      if (running.fixPort !== undefined) console.log(`  FIX 4.4 order entry on port ${running.fixPort}\n`);
      await new Promise<void>((resolve) => {
        const onSignal = (signal: string) => {
          logger.info({ signal }, 'shutting down: finishing in-flight commits');
          // the gateway ends what is still in flight at the deadline; this is the backstop for
          // anything else that would hold the process (a stuck connection, a service's close)
          setTimeout(() => {
            logger.error(
              { shutdownTimeoutMs: config.shutdownTimeoutMs },
              'shutdown deadline passed: exiting',
            );
            process.exit(1);
          }, config.shutdownTimeoutMs + SHUTDOWN_GRACE_MS).unref();
          running.stop().then(resolve, (err) => {
            logger.error({ err }, 'shutdown failed');
            process.exitCode = 1;
            resolve();
          });
        };
        process.once('SIGTERM', onSignal);
        process.once('SIGINT', onSignal);
      });
      logger.info('stopped');
      return process.exitCode === 1 ? 1 : 0;
    }
    case 'migrate': {
      if (values['dry-run']) {
        const { migrate } = await import('../platform/db/migrate.ts');
        const { openDb } = await import('../platform/db/open.ts');
        const db = await openDb(config, logger);
        try {
          const { applied } = await migrate(db, undefined, { dryRun: true });
          console.log(
            applied.length === 0
              ? 'bourse migrate --dry-run: the database is up to date'
              : `bourse migrate --dry-run: would apply ${applied.join(', ')}`,
          );
        } finally {
          await db.close();
        }
        return 0;
      }
      const { openPlatform } = await import('./platform.ts');
      const platform = await openPlatform({ ...config, natsUrl: undefined }, logger, { migrate: true });
      await platform.close();
      return 0;
    }
    case 'backup':
    case 'restore': {
      const file = positionals[0];
      if (!file || positionals.length > 1) {
        console.error(`usage: bourse ${command} FILE`);
        return 2;
      }
      const { backupCommand, restoreCommand } = await import('./backup.ts');
      try {
        console.log(
          command === 'backup'
            ? await backupCommand(config, file, adminHeaders)
            : await restoreCommand(config, file),
        );
        return 0;
      } catch (err) {
        console.error(`bourse ${command}: ${(err as Error).message}`);
        return 1;
      }
    }
    case 'cluster': {
      const { runCluster } = await import('./cluster.ts');
      const { MAX_SHARDS } = await import('./cluster-plan.ts');
      const shards = Number(values.shards);
      if (!/^[0-9]+$/.test(values.shards ?? '') || shards < 1 || shards > MAX_SHARDS) {
        console.error(
          `bourse cluster: --shards must be a whole number from 1 to ${MAX_SHARDS}, not '${values.shards}'`,
        );
        return 2;
      }
      return runCluster(process.env, { shards });
    }
    case 'seed': {
      const { seed } = await import('./seed.ts');
      await seed(config, logger);
      return 0;
    }
    case 'verify': {
      const { openPlatform } = await import('./platform.ts');
      const { createExchange } = await import('../engine/index.ts');
      const { DEFAULT_EXCHANGE_CONFIG, verifyOrders } = await import('../services/orders/index.ts');
      const platform = await openPlatform({ ...config, natsUrl: undefined }, logger, { migrate: false });
      try {
        const v = await verifyOrders(platform.db, {
          createExchange,
          exchangeConfig: DEFAULT_EXCHANGE_CONFIG,
          archiveDir: config.orders.archiveDir,
        });
        for (const line of v.differences) console.log(line);
        console.log(
          `bourse verify: journal up to seq ${v.seq}` +
            (v.baselineSeq ? ` (from the oldest kept snapshot, ${v.baselineSeq}: archive incomplete)` : '') +
            `, snapshot ${v.snapshotSeq || 'none'}: ` +
            (v.differences.length === 0
              ? 'tables and snapshot agree with a full replay'
              : `${v.differences.length} differences`),
        );
        return v.differences.length === 0 ? 0 : 1;
      } finally {
        await platform.close();
      }
    }
    default:
      console.error(`bourse: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof ConfigError) console.error(err.message);
    else console.error(err);
    process.exit(1);
  },
);

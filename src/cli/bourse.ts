#!/usr/bin/env node
/**
 * The `bourse` command.
 *
 *   bourse start [--role all|orders]   serve (all-in-one by default), until SIGTERM/SIGINT
 *   bourse migrate                     apply migrations/*.sql to the configured database
 *   bourse seed                        add the demo instruments and fund the demo accounts
 *
 * Configuration comes from the environment (see the README's table, or `bourse help`).
 */
import { parseArgs } from 'node:util';
import { ConfigError, configVariables, loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { ROLES, type Role, start } from './start.ts';

const USAGE = `usage: bourse <command> [options]

commands:
  start [--role ${ROLES.join('|')}]   run Bourse (default: all services in one process)
  migrate                      apply database migrations and exit
  seed                         add demo instruments and accounts and exit
  help                         this text and the configuration variables`;

async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  const { values } = parseArgs({ args: rest, options: { role: { type: 'string', default: 'all' } } });
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
      await new Promise<void>((resolve) => {
        const onSignal = (signal: string) => {
          logger.info({ signal }, 'shutting down: finishing in-flight commits');
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
      const { openPlatform } = await import('./platform.ts');
      const platform = await openPlatform({ ...config, natsUrl: undefined }, logger, { migrate: true });
      await platform.close();
      return 0;
    }
    case 'seed': {
      const { seed } = await import('./seed.ts');
      await seed(config, logger);
      return 0;
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

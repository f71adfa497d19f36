/**
 * `bourse cluster [--shards N]`: the whole platform as local processes on loopback ports, until
 * SIGINT or SIGTERM: 3 NATS JetStream nodes, the orders service as leader + hot standby (with
 * `--shards N`, N > 1: N orders shard nodes, each as leader + hot standby), 2 users, 2 market data,
 * 1 reporting and 2 gateways, on the PostgreSQL of DATABASE_URL (default: the local server's
 * `bourse_cluster` database, `bourse_cluster_shards<N>` with N shards, created if missing) and the
 * Redis of REDIS_URL.
 */

import { defaultClusterDatabaseUrl } from './cluster-database.ts';
import { startCluster } from './cluster-launch.ts';
import { DEFAULT_SHAPE } from './cluster-plan.ts';

export async function runCluster(
  env: NodeJS.ProcessEnv = process.env,
  options: { shards: number } = { shards: 1 },
): Promise<number> {
  const passOn = (names: string[]) =>
    Object.fromEntries(names.filter((n) => env[n]).map((n) => [n, env[n]!] as const));
  const cluster = await startCluster({
    databaseUrl: env.DATABASE_URL || defaultClusterDatabaseUrl(options.shards),
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    ...(env.BOURSE_SECRET && { secret: env.BOURSE_SECRET }),
    shape: { ...DEFAULT_SHAPE, shards: options.shards },
    // logs stay for reading after the stop; NATS keeps nothing that matters past it
    removeDir: false,
    env: passOn(['LOG_LEVEL', 'BOURSE_ADMIN_PASSWORD']),
    onProgress: (line) => console.log(`  ${line}`),
  });
  const memory = await cluster.memory();
  console.log(`\n  Bourse cluster up in ${(cluster.startMs / 1000).toFixed(1)} s. Gateways:\n`);
  for (const url of cluster.gateways) console.log(`    ${url}`);
  console.log('\n  process          pid      RSS MB  URL / log');
  for (const p of memory) {
    const proc = cluster.processes.find((x) => x.name === p.name);
    const where = proc ? `${proc.url}  ${proc.logFile}` : '';
    console.log(
      `  ${p.name.padEnd(16)} ${String(p.pid).padEnd(8)} ${String(p.rssMb ?? '?').padStart(6)}  ${where}`,
    );
  }
  console.log(`\n  Folder (logs, NATS stores): ${cluster.dir}. Ctrl-C stops everything.\n`);

  await new Promise<void>((resolve) => {
    const onSignal = () => resolve();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  console.log('  stopping: gateways, services, the orders standbys, their leaders, then NATS');
  await cluster.stop();
  console.log('  stopped');
  return 0;
}

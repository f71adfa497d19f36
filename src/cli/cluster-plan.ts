/**
 * What `bourse cluster` runs: which `bourse start --role` processes, in which order, with which
 * environment. Pure: the launcher (cluster-launch.ts) starts what this describes.
 */

export type ClusterRole = 'orders' | 'orders-shard' | 'users' | 'market-data' | 'reporting' | 'gateway';

export interface PlannedProcess {
  /** unique and stable: orders-0a, users-1, …; also its BOURSE_INSTANCE_ID where it needs one */
  name: string;
  role: ClusterRole;
  port: number;
  url: string;
  /**
   * processes of one stage start together, after every process of the stages before is ready
   * (the orders leader first: it migrates the database and must be the shard's leader; a shard's
   * standby only once its leader leads)
   */
  stage: number;
  /** the orders standby is never ready (/readyz 503 by design): it counts as up once /healthz is 200 */
  standby: boolean;
  /** the orders shard it leads or stands by for (orders processes only) */
  shard?: number;
  env: Record<string, string>;
}

export interface ClusterShape {
  /**
   * orders shards. 1: the orders service (`--role orders`) as leader + standby, as before; N > 1:
   * N shard nodes (`--role orders-shard`), each as leader + standby, and every other process given
   * BOURSE_ORDERS_SHARD_URLS instead of BOURSE_ORDERS_URLS
   */
  shards: number;
  gateways: number;
  users: number;
  marketData: number;
  reporting: number;
}

export const DEFAULT_SHAPE: ClusterShape = { shards: 1, gateways: 2, users: 2, marketData: 2, reporting: 1 };
export const MAX_SHARDS = 16;

export interface PlanInput {
  shape: ClusterShape;
  /** free loopback ports, at least processCount(shape) of them */
  ports: readonly number[];
  /** the environment every process shares (database, Redis, NATS, secret, …) */
  common: Record<string, string>;
  /** the cluster's folder: each process gets <dir>/<name> as its data folder */
  dir: string;
}

/** a leader + standby per orders shard, then the stateless roles */
export function processCount(shape: ClusterShape): number {
  return 2 * shape.shards + shape.users + shape.marketData + shape.reporting + shape.gateways;
}

export function planCluster({ shape, ports, common, dir }: PlanInput): PlannedProcess[] {
  if (!Number.isInteger(shape.shards) || shape.shards < 1 || shape.shards > MAX_SHARDS)
    throw new Error(`planCluster: shards must be an integer from 1 to ${MAX_SHARDS}, not ${shape.shards}`);
  let p = 0;
  const take = (name: string, role: ClusterRole, stage: number, standby = false): PlannedProcess => {
    const port = ports[p++];
    if (port === undefined) throw new Error('planCluster: not enough ports');
    return { name, role, port, url: `http://127.0.0.1:${port}`, stage, standby, env: {} };
  };
  const n = (count: number, prefix: string, role: ClusterRole, stage: number) =>
    Array.from({ length: count }, (_, i) => take(`${prefix}-${i + 1}`, role, stage));
  const sharded = shape.shards > 1;
  const ordersRole: ClusterRole = sharded ? 'orders-shard' : 'orders';
  // Per shard k: orders-<k>a first (it takes the shard's lock), then orders-<k>b, its standby. With
  // shards, orders-0a alone first: it migrates the database and creates the NATS stream and every
  // shard's durable consumer (3 replicas each), which several processes doing at once on a fresh
  // NATS cluster made time out (5 s) on 2 loaded cores; then the other shards' leaders.
  const later = sharded ? 1 : 0;
  const shards = Array.from({ length: shape.shards }, (_, k) => [
    { ...take(`orders-${k}a`, ordersRole, k === 0 ? 0 : 1), shard: k },
    { ...take(`orders-${k}b`, ordersRole, 1 + later, true), shard: k },
  ]);
  const orders = shards.flat();
  const users = n(shape.users, 'users', 'users', 1 + later);
  const marketData = n(shape.marketData, 'market-data', 'market-data', 2 + later);
  const reporting = n(shape.reporting, 'reporting', 'reporting', 2 + later);
  const gateways = n(shape.gateways, 'gateway', 'gateway', 3 + later);
  const urls = (ps: { url: string }[]) => ps.map((x) => x.url).join(',');
  // every process is given every instance (the balancer finds the orders shard's leader among them)
  const where = {
    ...(sharded
      ? {
          BOURSE_ORDERS_SHARD_URLS: shards.map(urls).join(';'),
          BOURSE_ORDERS_SHARDS: String(shape.shards),
        }
      : { BOURSE_ORDERS_URLS: urls(orders) }),
    BOURSE_USERS_URLS: urls(users),
    BOURSE_MARKET_DATA_URLS: urls(marketData),
    BOURSE_REPORTING_URLS: urls(reporting),
  };
  // the shards' leaders first, then their standbys, as they start
  const all = [
    ...orders.filter((o) => !o.standby),
    ...orders.filter((o) => o.standby),
    ...users,
    ...marketData,
    ...reporting,
    ...gateways,
  ];
  return all.map((proc) => ({
    ...proc,
    env: {
      ...common,
      ...where,
      PORT: String(proc.port),
      HOST: '127.0.0.1',
      BOURSE_DATA_DIR: `${dir}/${proc.name}`,
      // per-instance durable consumers (users' alerts, market data's trades) need a stable name
      BOURSE_INSTANCE_ID: proc.name,
      BOURSE_ORDERS_SHARD: String(proc.shard ?? 0),
      // leader and standby share one archive folder: whoever leads archives into it
      BOURSE_ARCHIVE_DIR: `${dir}/journal-archive`,
    },
  }));
}

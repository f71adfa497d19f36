/**
 * What `bourse cluster` runs: which `bourse start --role` processes, in which order, with which
 * environment. Pure: the launcher (cluster-launch.ts) starts what this describes.
 */

export type ClusterRole = 'orders' | 'users' | 'market-data' | 'reporting' | 'gateway';

export interface PlannedProcess {
  /** unique and stable: orders-0a, users-1, …; also its BOURSE_INSTANCE_ID where it needs one */
  name: string;
  role: ClusterRole;
  port: number;
  url: string;
  /**
   * processes of one stage start together, after every process of the stages before is ready
   * (the orders leader first: it migrates the database and must be the shard's leader)
   */
  stage: number;
  /** the orders standby is never ready (/readyz 503 by design): it counts as up once /healthz is 200 */
  standby: boolean;
  env: Record<string, string>;
}

export interface ClusterShape {
  gateways: number;
  users: number;
  marketData: number;
  reporting: number;
}

export const DEFAULT_SHAPE: ClusterShape = { gateways: 2, users: 2, marketData: 2, reporting: 1 };

export interface PlanInput {
  shape: ClusterShape;
  /** free loopback ports, at least processCount(shape) of them */
  ports: readonly number[];
  /** the environment every process shares (database, Redis, NATS, secret, …) */
  common: Record<string, string>;
  /** the cluster's folder: each process gets <dir>/<name> as its data folder */
  dir: string;
}

/** orders leader + standby for shard 0, then the stateless roles */
export function processCount(shape: ClusterShape): number {
  return 2 + shape.users + shape.marketData + shape.reporting + shape.gateways;
}

export function planCluster({ shape, ports, common, dir }: PlanInput): PlannedProcess[] {
  let p = 0;
  const take = (name: string, role: ClusterRole, stage: number, standby = false) => {
    const port = ports[p++];
    if (port === undefined) throw new Error('planCluster: not enough ports');
    return { name, role, port, url: `http://127.0.0.1:${port}`, stage, standby, env: {} };
  };
  const n = (count: number, prefix: string, role: ClusterRole, stage: number) =>
    Array.from({ length: count }, (_, i) => take(`${prefix}-${i + 1}`, role, stage));
  const orders = [take('orders-0a', 'orders', 0), take('orders-0b', 'orders', 1, true)];
  const users = n(shape.users, 'users', 'users', 1);
  const marketData = n(shape.marketData, 'market-data', 'market-data', 2);
  const reporting = n(shape.reporting, 'reporting', 'reporting', 2);
  const gateways = n(shape.gateways, 'gateway', 'gateway', 3);
  const urls = (ps: { url: string }[]) => ps.map((x) => x.url).join(',');
  // every process is given every instance (the balancer finds the orders shard's leader among them)
  const where = {
    BOURSE_ORDERS_URLS: urls(orders),
    BOURSE_USERS_URLS: urls(users),
    BOURSE_MARKET_DATA_URLS: urls(marketData),
    BOURSE_REPORTING_URLS: urls(reporting),
  };
  const all = [...orders, ...users, ...marketData, ...reporting, ...gateways];
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
      BOURSE_ORDERS_SHARD: '0',
      // leader and standby share one archive folder: whoever leads archives into it
      BOURSE_ARCHIVE_DIR: `${dir}/journal-archive`,
    },
  }));
}

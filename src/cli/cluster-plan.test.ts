import { describe, expect, it } from 'vitest';
import { DEFAULT_SHAPE, planCluster, processCount } from './cluster-plan.ts';

describe('planCluster', () => {
  const ports = Array.from({ length: processCount(DEFAULT_SHAPE) }, (_, i) => 40_000 + i);
  const plan = planCluster({
    shape: DEFAULT_SHAPE,
    ports,
    dir: '/c',
    common: { DATABASE_URL: 'postgres://x/db' },
  });

  it('runs the orders leader and standby, 2 users, 2 market data, 1 reporting and 2 gateways', () => {
    expect(plan.map((p) => [p.name, p.role, p.stage, p.standby])).toEqual([
      ['orders-0a', 'orders', 0, false],
      ['orders-0b', 'orders', 1, true],
      ['users-1', 'users', 1, false],
      ['users-2', 'users', 1, false],
      ['market-data-1', 'market-data', 2, false],
      ['market-data-2', 'market-data', 2, false],
      ['reporting-1', 'reporting', 2, false],
      ['gateway-1', 'gateway', 3, false],
      ['gateway-2', 'gateway', 3, false],
    ]);
    expect(new Set(plan.map((p) => p.port)).size).toBe(plan.length);
  });

  it('tells every process where the others are, the orders leader first, and gives each its own name and folder', () => {
    for (const p of plan) {
      expect(p.env).toMatchObject({
        DATABASE_URL: 'postgres://x/db',
        PORT: String(p.port),
        HOST: '127.0.0.1',
        BOURSE_INSTANCE_ID: p.name,
        BOURSE_DATA_DIR: `/c/${p.name}`,
        BOURSE_ORDERS_URLS: 'http://127.0.0.1:40000,http://127.0.0.1:40001',
        BOURSE_USERS_URLS: 'http://127.0.0.1:40002,http://127.0.0.1:40003',
        BOURSE_MARKET_DATA_URLS: 'http://127.0.0.1:40004,http://127.0.0.1:40005',
        BOURSE_REPORTING_URLS: 'http://127.0.0.1:40006',
      });
    }
  });

  it('--shards 2: a leader and a standby shard node per shard, and every other process given both shards', () => {
    const shape = { ...DEFAULT_SHAPE, shards: 2 };
    const sharded = planCluster({
      shape,
      ports: Array.from({ length: processCount(shape) }, (_, i) => 40_000 + i),
      dir: '/c',
      common: {},
    });
    expect(
      sharded.slice(0, 4).map((p) => [p.name, p.role, p.stage, p.standby, p.env.BOURSE_ORDERS_SHARD]),
    ).toEqual([
      ['orders-0a', 'orders-shard', 0, false, '0'],
      ['orders-1a', 'orders-shard', 1, false, '1'],
      ['orders-0b', 'orders-shard', 2, true, '0'],
      ['orders-1b', 'orders-shard', 2, true, '1'],
    ]);
    expect(Object.fromEntries(sharded.slice(4).map((p) => [p.name, p.stage]))).toMatchObject({
      'users-1': 2,
      'market-data-1': 3,
      'reporting-1': 3,
      'gateway-1': 4,
    });
    expect(sharded).toHaveLength(11);
    for (const p of sharded) {
      expect(p.env).toMatchObject({
        BOURSE_ORDERS_SHARD_URLS:
          'http://127.0.0.1:40000,http://127.0.0.1:40001;http://127.0.0.1:40002,http://127.0.0.1:40003',
        BOURSE_ORDERS_SHARDS: '2',
      });
      expect(p.env).not.toHaveProperty('BOURSE_ORDERS_URLS');
    }
  });

  it('refuses a shard count out of range', () => {
    expect(() =>
      planCluster({ shape: { ...DEFAULT_SHAPE, shards: 0 }, ports: [], dir: '/c', common: {} }),
    ).toThrow(/shards/);
  });

  it('refuses too few ports', () => {
    expect(() => planCluster({ shape: DEFAULT_SHAPE, ports: [1, 2], dir: '/c', common: {} })).toThrow(
      /ports/,
    );
  });
});

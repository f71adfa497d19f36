/**
 * Orders shard nodes behind the orders service's own API: each node's `ordersRoutes` over
 * `createShardOrdersClient(node, createShardReads(db, node))`, reached with `httpOrdersClient`
 * through Fastify's inject (the real HTTP contract, no sockets), and `shardedOrdersClient` over them.
 */
import Fastify from 'fastify';
import type { ShardLayout } from '../../../src/engine/shards/layout.ts';
import type { Bus } from '../../../src/platform/bus/types.ts';
import type { Db } from '../../../src/platform/db/types.ts';
import { createLogger } from '../../../src/platform/logger.ts';
import { httpOrdersClient, type OrdersClient } from '../../../src/services/orders/client.ts';
import { DEFAULT_EXCHANGE_CONFIG } from '../../../src/services/orders/index.ts';
import { DEFAULT_PREFIX, ordersRoutes } from '../../../src/services/orders/routes.ts';
import { shardedOrdersClient } from '../../../src/services/orders/sharded-client.ts';
import { type ShardNodeService, startShardNode } from '../../../src/services/orders/shards/node-service.ts';
import { createShardOrdersClient } from '../../../src/services/orders/shards/orders-client.ts';
import { createShardReads } from '../../../src/services/orders/shards/reads.ts';
import { injectFetch } from './http.ts';
import { TEST_INTERNAL_TOKEN } from './process.ts';

export const TWO_SHARDS: ShardLayout = { riskShards: 2, matchingShards: 2 };

export interface ShardedOrders {
  nodes: ShardNodeService[];
  /** shard k's own client */
  clients: OrdersClient[];
  /** the router over them */
  router: OrdersClient;
  close(): Promise<void>;
}

export async function startShardedOrders(db: Db, bus: Bus, layout = TWO_SHARDS): Promise<ShardedOrders> {
  const nodes: ShardNodeService[] = [];
  for (let shard = 0; shard < layout.riskShards; shard++) {
    nodes.push(
      await startShardNode({
        db,
        bus,
        config: DEFAULT_EXCHANGE_CONFIG,
        layout,
        shard,
        logger: createLogger({ level: 'silent' }),
        holder: `node-${shard}`,
        leaseMs: 2000,
      }),
    );
  }
  await Promise.all(nodes.map((n) => n.leading));
  const clients: OrdersClient[] = [];
  for (const node of nodes) {
    const app = Fastify({ logger: false });
    await app.register(ordersRoutes(createShardOrdersClient(node, createShardReads(db, node))), {
      prefix: DEFAULT_PREFIX,
    });
    await app.ready();
    clients.push(
      httpOrdersClient(`http://orders-shard-${node.shard}.test`, {
        internalToken: TEST_INTERNAL_TOKEN,
        fetch: injectFetch(app),
      }),
    );
  }
  return {
    nodes,
    clients,
    router: shardedOrdersClient(clients, layout),
    close: async () => {
      for (const n of nodes) await n.close();
    },
  };
}

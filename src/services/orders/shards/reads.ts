/**
 * The orders service's reads for a sharded deployment: the same query functions (../queries.ts)
 * over the same tables, which shard nodes write (projection.ts), validated and refused exactly as
 * the orders service's own client does (../handlers.ts `tableReads`: 404 order-not-found, 400 with
 * the field).
 *
 * Read-your-writes: a read first waits until the tables hold this node's journal up to its seq at
 * the time of the read, so what this node acknowledged is visible; bounded, so a projection that
 * is stuck (database down, a leader gone) answers a retriable 503 instead of hanging. A standby
 * serves reads too: the tables are its leader's, and it waits for the leader's watermark.
 *
 * An account's orders, executions, movements, balance and positions are written by its risk shard,
 * a symbol's trades by its matching shard: the node to ask is the owner (reading elsewhere finds
 * the same rows, without the wait covering that owner's latest entries).
 */
import type { Queryable } from '../../../platform/db/types.ts';
import { type TableReads, tableReads } from '../handlers.ts';
import { unavailable } from '../problems.ts';
import type { ShardNodeService } from './node-service.ts';

/** the orders service's table reads (handlers.ts), served by a shard node */
export type ShardReads = TableReads;

/** How long a read waits for the projection before it answers 503. */
const READ_WAIT_MS = 5000;

export function createShardReads(
  db: Queryable,
  node: ShardNodeService,
  options: { waitMs?: number } = {},
): ShardReads {
  const waitMs = options.waitMs ?? READ_WAIT_MS;
  const fresh: Queryable = {
    query: async (sql, params, queryOptions) => {
      const seq = node.seq();
      if (!(await node.projected(seq, waitMs))) {
        throw unavailable(
          `orders shard ${node.shard}: the read tables did not reach journal entry ${seq} within ${waitMs} ms`,
        );
      }
      return db.query(sql, params, queryOptions);
    },
    exec: (sql) => db.exec(sql),
  };
  return tableReads(fresh);
}

/**
 * What a shard node refuses before anything runs, for both of its doors (routes.ts and the orders
 * API, orders-client.ts): a standby or fenced node answers 503 not-leader (the balancer moves to
 * the leader), an account another shard owns 421 misdirected naming that shard.
 */
import { riskShardOf } from '../../../engine/shards/layout.ts';
import { notLeader, OrdersApiError, problem } from '../problems.ts';
import type { ShardNodeService } from './node-service.ts';

/** How long an answer waits for the matching shard's verdict before answering with the hold. */
export const VERDICT_WAIT_MS = 2000;

export function requireLeading(node: ShardNodeService): void {
  const role = node.role();
  if (role === 'leader') return;
  throw notLeader(
    role === 'fenced' || role === 'closed' ? 'fenced' : 'standby',
    `orders shard ${node.shard} is ${role}`,
  );
}

export function requireMine(node: ShardNodeService, account: string): void {
  const owner = riskShardOf(account, node.state().layout);
  if (owner !== node.shard) {
    throw new OrdersApiError(
      problem(421, 'misdirected', 'Account of another shard', {
        detail: `account ${account} belongs to orders shard ${owner}, not ${node.shard}`,
      }),
    );
  }
}

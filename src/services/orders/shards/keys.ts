/**
 * A shard node's idempotency window: commands journaled with a client's key (an order's
 * client_order_id), per account, and their answers, so a resubmission after a lost answer or a
 * leader change is answered, not applied again. Rebuilt from the journal on recovery (keys travel
 * in it). Bounded: the oldest keys go first (BOURSE_IDEMPOTENCY_MAX_KEYS of the single service is
 * the same idea; 100,000 here).
 */
import type { ShardInput } from '../../../engine/shards/node.ts';
import type { RiskEvent } from '../../../engine/shards/risk-shard.ts';

const MAX_KEYS = 100_000;

export interface KeyWindowData {
  answers: [string, RiskEvent[]][];
  clientIds: [number, string][];
}

export function createKeyWindow(max = MAX_KEYS) {
  const answers = new Map<string, RiskEvent[]>();
  const clientIds = new Map<number, string>();
  const scoped = (input: Extract<ShardInput, { kind: 'command' }>) =>
    input.key === undefined || !('account' in input.command)
      ? undefined
      : `${input.command.type}/${input.command.account}/${input.key}`;
  return {
    /** the answer to an earlier command with this key, if the window still has it */
    answer(input: Extract<ShardInput, { kind: 'command' }>): RiskEvent[] | undefined {
      const k = scoped(input);
      return k === undefined ? undefined : answers.get(k);
    },
    record(input: ShardInput, events: RiskEvent[]): void {
      if (input.kind !== 'command') return;
      const k = scoped(input);
      if (k === undefined) return;
      answers.set(k, events);
      if (input.command.type === 'new_order') clientIds.set(input.command.id, input.key!);
      if (answers.size > max) answers.delete(answers.keys().next().value!);
      if (clientIds.size > max) clientIds.delete(clientIds.keys().next().value!);
    },
    clientIdOf: (orderId: number): string | null => clientIds.get(orderId) ?? null,
    clear(): void {
      answers.clear();
      clientIds.clear();
    },
    /** plain data for a snapshot, oldest first */
    save: (): KeyWindowData => ({ answers: [...answers], clientIds: [...clientIds] }),
    load(data: KeyWindowData): void {
      answers.clear();
      clientIds.clear();
      for (const [k, v] of data.answers) answers.set(k, v);
      for (const [k, v] of data.clientIds) clientIds.set(k, v);
    },
  };
}

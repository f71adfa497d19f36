/**
 * A shard node's idempotency window: commands journaled with a client's key (an order's
 * client_order_id), per account, and their answers, so a resubmission after a lost answer or a
 * leader change is answered, not applied again. Rebuilt from the journal on recovery (keys travel
 * in it). Bounded: the oldest keys go first (BOURSE_IDEMPOTENCY_MAX_KEYS of the single service is
 * the same idea; 100,000 here).
 *
 * With each key it keeps the command as journaled and its seq (`original`): what a replayed
 * request is compared with (another request under a used key is refused) and whose seq it
 * answers. So nothing the window answers is read back from the journal, and journal retention
 * may archive an entry whatever its key (snapshots written before this kept no originals: for
 * those keys `original` is null and the node looks in the journal, while the entry is there).
 */
import type { ShardInput } from '../../../engine/shards/node.ts';
import type { RiskCommand, RiskEvent } from '../../../engine/shards/risk-shard.ts';

const MAX_KEYS = 100_000;

export interface KeyWindowData {
  answers: [string, RiskEvent[]][];
  clientIds: [number, string][];
  /** key → [journal seq, command as journaled]; absent from snapshots written before it existed */
  originals?: [string, number, RiskCommand][];
}

export function createKeyWindow(max = MAX_KEYS) {
  const answers = new Map<string, RiskEvent[]>();
  const clientIds = new Map<number, string>();
  const originals = new Map<string, [number, RiskCommand]>();
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
    /** the command journaled under this input's key (and its seq), if the window has it */
    original(command: RiskCommand, key: string): { seq: number; command: RiskCommand } | null {
      const k = scoped({ kind: 'command', command, key });
      const found = k === undefined ? undefined : originals.get(k);
      return found === undefined ? null : { seq: found[0], command: found[1] };
    },
    /** an input applied at journal entry `seq` and its answer */
    record(input: ShardInput, events: RiskEvent[], seq: number): void {
      if (input.kind !== 'command') return;
      const k = scoped(input);
      if (k === undefined) return;
      answers.set(k, events);
      originals.set(k, [seq, input.command]);
      if (input.command.type === 'new_order') clientIds.set(input.command.id, input.key!);
      if (answers.size > max) {
        const oldest = answers.keys().next().value!;
        answers.delete(oldest);
        originals.delete(oldest);
      }
      if (clientIds.size > max) clientIds.delete(clientIds.keys().next().value!);
    },
    clientIdOf: (orderId: number): string | null => clientIds.get(orderId) ?? null,
    clear(): void {
      answers.clear();
      clientIds.clear();
      originals.clear();
    },
    /** plain data for a snapshot, oldest first */
    save: (): KeyWindowData => ({
      answers: [...answers],
      clientIds: [...clientIds],
      originals: [...originals].map(([k, [seq, command]]) => [k, seq, command]),
    }),
    load(data: KeyWindowData): void {
      answers.clear();
      clientIds.clear();
      originals.clear();
      for (const [k, v] of data.answers) answers.set(k, v);
      for (const [k, v] of data.clientIds) clientIds.set(k, v);
      for (const [k, seq, command] of data.originals ?? []) originals.set(k, [seq, command]);
    },
  };
}

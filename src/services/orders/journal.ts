/**
 * Reading the journal back: the only input recovery trusts. Entries come in seq order, in pages
 * (keyset on seq, so a long journal never sits in memory at once).
 */
import type { Command, RejectReason } from '../../domain/exchange.ts';
import type { Queryable } from '../../platform/db/types.ts';

export interface JournalEntry {
  seq: number;
  command: Command;
  idempotencyKey: string | null;
  rejectReason: RejectReason | null;
}

interface JournalRow {
  seq: number;
  command: Command;
  idempotency_key: string | null;
  reject_reason: RejectReason | null;
}

const PAGE = 5000;

export async function* readJournal(db: Queryable, afterSeq = 0): AsyncGenerator<JournalEntry> {
  let last = afterSeq;
  for (;;) {
    const { rows } = await db.query<JournalRow>(
      'SELECT seq, command, idempotency_key, reject_reason FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2',
      [last, PAGE],
    );
    for (const row of rows) {
      yield {
        seq: row.seq,
        command: row.command,
        idempotencyKey: row.idempotency_key,
        rejectReason: row.reject_reason,
      };
    }
    if (rows.length < PAGE) return;
    last = rows[rows.length - 1]!.seq;
  }
}

export async function journalEntry(db: Queryable, seq: number): Promise<JournalEntry | null> {
  const { rows } = await db.query<JournalRow>(
    'SELECT seq, command, idempotency_key, reject_reason FROM journal WHERE seq = $1',
    [seq],
  );
  const row = rows[0];
  return row
    ? {
        seq: row.seq,
        command: row.command,
        idempotencyKey: row.idempotency_key,
        rejectReason: row.reject_reason,
      }
    : null;
}

/** Idempotency keys are scoped so that one account's keys can never collide with another's. */
export const idempotencyKeys = {
  order: (account: string, clientOrderId: string): string => `o/${account}/${clientOrderId}`,
  cash: (account: string, key: string): string => `c/${account}/${key}`,
  shares: (account: string, key: string): string => `s/${account}/${key}`,
};

/**
 * A FIX session's sequence numbers and sent application messages, in the database (the
 * fix_sessions and fix_messages tables), behind jspurefix's IFixSessionStore interface.
 *
 * The engine calls the store fire-and-forget as it encodes and receives messages, so writes are
 * queued here and committed behind the socket, in order, many per transaction. Two rules make
 * that safe:
 *
 * - Sequence numbers are reserved before they are used: the stored `sender_seq_reserved` stays at
 *   least SEQ_BLOCK / 2 ahead of the next number sent. A process that dies with writes still
 *   queued leaves the row not `clean`, and the next logon goes on from the reserved mark: no
 *   number is ever sent twice, and the client's ResendRequest for the skipped ones is gap-filled.
 * - Each logon bumps `owner_epoch`, and every write names the epoch it was loaded under. A process
 *   still holding a session that has logged on elsewhere finds its writes refused (`onFenced`) and
 *   drops its connection, so two processes never write one session.
 *
 * Only application messages are kept (admin messages are gap-filled on resend).
 */

import type { Clock } from '../../platform/clock.ts';
import { insertMany } from '../../platform/db/insert-many.ts';
import type { Db, Queryable } from '../../platform/db/types.ts';
import type { Logger } from '../../platform/logger.ts';
import { FixMsgStoreRecord, type IFixMsgStoreRecord, type IFixSessionStore, SessionId } from './jspurefix.ts';

/** How many sequence numbers are reserved ahead of use. */
export const SEQ_BLOCK = 1000;

/** Session-level message types: never stored, gap-filled when a resend asks for them. */
export const ADMIN_MSG_TYPES: ReadonlySet<string> = new Set(['0', '1', '2', '3', '4', '5', 'A']);

const RETRY_MS = 1000;

export interface SessionKey {
  apiKeyId: string;
  senderCompId: string;
  userId: string;
}

export interface DbSessionStoreOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  key: SessionKey;
  /** Our CompID (BOURSE): jspurefix's SessionId is ours-theirs. */
  ourCompId: string;
  /** A write was refused: another process has taken this session over. */
  onFenced: () => void;
}

interface Outgoing {
  seq: number;
  msgType: string;
  sentAt: Date;
  raw: string;
}

interface Work {
  reset: boolean;
  seqs: boolean;
  messages: Outgoing[];
}

class Fenced extends Error {}

interface SessionRow {
  id: number;
  next_sender_seq: number;
  next_target_seq: number;
  sender_seq_reserved: number;
  clean: boolean;
  owner_epoch: number;
  reset_at: Date;
}

export class DbSessionStore implements IFixSessionStore {
  sessionId: SessionId;
  /** fix_sessions.id, once initialised */
  id = 0;
  private epoch = 0;
  private sender = 1;
  private target = 1;
  private reserved = 1 + SEQ_BLOCK;
  private resetAt = new Date(0);
  private highestStored = 0;
  private loaded: Promise<void> | null = null;
  private fenced = false;
  private closed = false;
  /** closing, a write failed: what is still queued is dropped (the reserved mark covers it) */
  private abandoned = false;

  private work: Work = { reset: false, seqs: false, messages: [] };
  /** bodies of sent application messages, by seq, until written */
  private readonly bodies = new Map<number, unknown>();
  /** messages stored whose body has not arrived yet */
  private readonly awaitingBody = new Set<number>();
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: DbSessionStoreOptions) {
    this.sessionId = new SessionId('FIX.4.4', opts.ourCompId, opts.key.senderCompId);
  }

  get isFenced(): boolean {
    return this.fenced;
  }

  // --- sequence numbers (the engine reads these synchronously once initialised) ---

  get senderSeqNum(): number {
    return this.sender;
  }
  set senderSeqNum(value: number) {
    void this.setSenderSeqNum(value);
  }
  get targetSeqNum(): number {
    return this.target;
  }
  set targetSeqNum(value: number) {
    void this.setTargetSeqNum(value);
  }

  /** Only moves forward: a resent message (PossDupFlag) reports its old number here too. */
  async setSenderSeqNum(value: number): Promise<void> {
    if (value <= this.sender) return;
    this.sender = value;
    if (this.sender > this.reserved - SEQ_BLOCK / 2) this.reserved = this.sender + SEQ_BLOCK;
    this.dirty();
  }

  async setTargetSeqNum(value: number): Promise<void> {
    if (value === this.target) return;
    this.target = value;
    this.dirty();
  }

  async nextSenderSeqNum(): Promise<number> {
    await this.setSenderSeqNum(this.sender + 1);
    return this.sender;
  }

  async nextTargetSeqNum(): Promise<number> {
    await this.setTargetSeqNum(this.target + 1);
    return this.target;
  }

  get creationTime(): Date {
    return this.resetAt;
  }

  /** Both sides back to 1, sent messages forgotten (ResetSeqNumFlag=Y). */
  async reset(): Promise<void> {
    this.sender = 1;
    this.target = 1;
    this.reserved = 1 + SEQ_BLOCK;
    this.highestStored = 0;
    this.resetAt = new Date(this.opts.clock.now());
    this.bodies.clear();
    this.awaitingBody.clear();
    this.work = { reset: true, seqs: true, messages: [] };
    this.schedule();
  }

  // --- messages ---

  async put(record: IFixMsgStoreRecord): Promise<void> {
    if (ADMIN_MSG_TYPES.has(record.msgType)) return;
    // a resend re-encodes stored messages under their old numbers: keep the original
    if (record.seqNum <= this.highestStored) return;
    this.highestStored = record.seqNum;
    this.awaitingBody.add(record.seqNum);
    if (this.awaitingBody.size > 1000) this.awaitingBody.delete(this.awaitingBody.values().next().value!);
    this.work.messages.push({
      seq: record.seqNum,
      msgType: record.msgType,
      sentAt: record.timestamp,
      raw: record.encoded ?? '',
    });
    this.schedule();
  }

  /** The body an application message was sent with, kept so that a resend is exact. */
  attachBody(seq: number, body: unknown): void {
    // only for a message stored just now (a resend must not overwrite the original)
    if (!this.awaitingBody.delete(seq)) return;
    if (this.work.messages.some((m) => m.seq === seq)) this.bodies.set(seq, body);
    else void this.updateBody(seq, body);
  }

  async get(seqNum: number): Promise<IFixMsgStoreRecord | null> {
    return (await this.getRange(seqNum, seqNum))[0] ?? null;
  }

  async getRange(fromSeqNum: number, toSeqNum: number): Promise<IFixMsgStoreRecord[]> {
    await this.flush();
    const { rows } = await this.opts.db.query<{
      seq: number;
      msg_type: string;
      sent_at: Date;
      body: Record<string, unknown> | null;
      raw: string;
    }>(
      `SELECT seq, msg_type, sent_at, body, raw FROM fix_messages
        WHERE session_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`,
      [this.id, fromSeqNum, toSeqNum],
    );
    return rows.map((r) => new FixMsgStoreRecord(r.msg_type, r.sent_at, r.seq, r.body ?? undefined, r.raw));
  }

  // --- lifecycle ---

  /**
   * Loads (or creates) the session row and takes it over: a new epoch, the row marked in use.
   * After an unclean stop the sender goes on from the reserved mark. Idempotent.
   */
  initialize(): Promise<void> {
    this.loaded ??= this.load();
    return this.loaded;
  }

  private async load(): Promise<void> {
    const { db, clock, key } = this.opts;
    const now = new Date(clock.now());
    const row = await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO fix_sessions (api_key_id, sender_comp_id, user_id, next_sender_seq, next_target_seq,
           sender_seq_reserved, clean, owner_epoch, reset_at, created_at, last_logon_at)
         VALUES ($1, $2, $3, 1, 1, 1, true, 0, $4, $4, $4)
         ON CONFLICT (api_key_id, sender_comp_id) DO NOTHING`,
        [key.apiKeyId, key.senderCompId, key.userId, now],
      );
      const { rows } = await tx.query<SessionRow>(
        `SELECT id, next_sender_seq, next_target_seq, sender_seq_reserved, clean, owner_epoch, reset_at
           FROM fix_sessions WHERE api_key_id = $1 AND sender_comp_id = $2 FOR UPDATE`,
        [key.apiKeyId, key.senderCompId],
      );
      const r = rows[0]!;
      const next = r.clean ? r.next_sender_seq : r.sender_seq_reserved;
      const epoch = r.owner_epoch + 1;
      await tx.query(
        `UPDATE fix_sessions SET next_sender_seq = $2, sender_seq_reserved = $3, clean = false,
           owner_epoch = $4, user_id = $5, last_logon_at = $6 WHERE id = $1`,
        [r.id, next, next + SEQ_BLOCK, epoch, key.userId, now],
      );
      return { ...r, next_sender_seq: next, sender_seq_reserved: next + SEQ_BLOCK, owner_epoch: epoch };
    });
    if (!row.clean && row.next_sender_seq > 1) {
      this.opts.logger.warn(
        { session: this.sessionId.toString(), nextSender: row.next_sender_seq },
        'fix: the session was not closed cleanly; sending on from its reserved sequence number',
      );
    }
    this.id = row.id;
    this.epoch = row.owner_epoch;
    this.sender = row.next_sender_seq;
    this.target = row.next_target_seq;
    this.reserved = row.sender_seq_reserved;
    this.resetAt = row.reset_at;
    this.highestStored = this.sender - 1;
  }

  /**
   * Resolves once everything queued so far is committed (or the session was fenced out, or, once
   * disposed, a write failed: see dispose).
   */
  async flush(): Promise<void> {
    for (;;) {
      if (this.running) await this.running;
      else if (this.pending() && !this.fenced && !this.abandoned) this.kick();
      else return;
    }
  }

  /**
   * Flushes and marks the row as cleanly stopped. If a write fails once closing (the database is
   * down or already closed), it gives up rather than retry forever: a shutdown must not hang on
   * it, and the row stays marked unclean, so the next logon sends on from the reserved mark.
   */
  async dispose(): Promise<void> {
    if (this.closed || !this.loaded) return;
    this.closed = true;
    await this.flush();
    if (this.fenced || this.abandoned || this.id === 0) return;
    await this.opts.db.query(
      `UPDATE fix_sessions SET clean = true, next_sender_seq = $3, next_target_seq = $4,
         sender_seq_reserved = GREATEST(sender_seq_reserved, $3) WHERE id = $1 AND owner_epoch = $2`,
      [this.id, this.epoch, this.sender, this.target],
    );
  }

  // --- the write queue ---

  private dirty(): void {
    this.work.seqs = true;
    this.schedule();
  }

  private pending(): boolean {
    return this.work.reset || this.work.seqs || this.work.messages.length > 0;
  }

  private schedule(): void {
    if (this.running || this.timer || this.fenced || !this.loaded) return;
    // one tick later: the body of a message arrives just after the message itself
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, 0);
  }

  private kick(): void {
    if (this.running || this.fenced) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.running = this.drain().finally(() => {
      this.running = null;
    });
  }

  private async drain(): Promise<void> {
    await this.loaded;
    while (this.pending() && !this.fenced) {
      const work = this.work;
      this.work = { reset: false, seqs: false, messages: [] };
      try {
        await this.opts.db.transaction((tx) => this.write(tx, work));
        for (const m of work.messages) this.bodies.delete(m.seq);
      } catch (err) {
        if (err instanceof Fenced) {
          this.fenced = true;
          this.opts.logger.warn(
            { session: this.sessionId.toString() },
            'fix: the session logged on elsewhere; this process lets it go',
          );
          this.opts.onFenced();
          return;
        }
        // keep the work (ahead of anything newer) and try again: the engine never waits for us
        this.work = {
          reset: work.reset || this.work.reset,
          seqs: true,
          messages: [...work.messages, ...this.work.messages],
        };
        this.opts.logger.error(
          { err, session: this.sessionId.toString() },
          'fix: session store write failed',
        );
        if (this.closed) {
          this.abandoned = true;
          return;
        }
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  private async write(tx: Queryable, work: Work): Promise<void> {
    const { rowCount } = await tx.query(
      `UPDATE fix_sessions SET next_sender_seq = $3, next_target_seq = $4, sender_seq_reserved = $5,
         reset_at = $6 WHERE id = $1 AND owner_epoch = $2`,
      [this.id, this.epoch, this.sender, this.target, this.reserved, this.resetAt],
    );
    if (rowCount === 0) throw new Fenced();
    if (work.reset) await tx.query('DELETE FROM fix_messages WHERE session_id = $1', [this.id]);
    await insertMany(
      tx,
      'fix_messages',
      {
        session_id: 'int8',
        seq: 'int4',
        msg_type: 'text',
        sent_at: 'timestamptz',
        body: 'jsonb',
        raw: 'text',
      },
      work.messages.map((m) => [this.id, m.seq, m.msgType, m.sentAt, this.bodies.get(m.seq) ?? null, m.raw]),
      { onConflict: '(session_id, seq) DO NOTHING' },
    );
  }

  private async updateBody(seq: number, body: unknown): Promise<void> {
    await this.flush();
    await this.opts.db
      .query('UPDATE fix_messages SET body = $3 WHERE session_id = $1 AND seq = $2', [
        this.id,
        seq,
        JSON.stringify(body),
      ])
      .catch((err: unknown) => this.opts.logger.error({ err }, 'fix: storing a message body failed'));
  }
}

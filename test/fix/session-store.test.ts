/**
 * The FIX session store on PGlite and PostgreSQL: sequence numbers and sent messages persist, a
 * crash never makes a sequence number be sent twice, and a stale process is fenced out.
 */

import { expect, it, vi } from 'vitest';
import type { Db } from '../../src/platform/db/types.ts';
import { FixMsgStoreRecord } from '../../src/services/fix/jspurefix.ts';
import { DbSessionStore, SEQ_BLOCK, type SessionKey } from '../../src/services/fix/session-store.ts';
import { forEachDb } from '../support/db.ts';
import { logger, monotonicClock } from './harness.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const KEY: SessionKey = { apiKeyId: 'BKTEST', senderCompId: 'DESK', userId: 'u-1' };

function open(db: Db, onFenced: () => void = () => {}): DbSessionStore {
  return new DbSessionStore({ db, clock: monotonicClock(), logger, key: KEY, ourCompId: 'BOURSE', onFenced });
}

/** What the engine does for each message it sends. */
async function sent(store: DbSessionStore, seq: number, msgType = '8', body?: unknown): Promise<void> {
  await store.put(new FixMsgStoreRecord(msgType, new Date(), seq, undefined, `35=${msgType}|34=${seq}|`));
  if (body !== undefined) store.attachBody(seq, body);
  await store.setSenderSeqNum(seq + 1);
}

const row = async (db: Db) =>
  (
    await db.query<{
      next_sender_seq: number;
      next_target_seq: number;
      sender_seq_reserved: number;
      clean: boolean;
    }>('SELECT next_sender_seq, next_target_seq, sender_seq_reserved, clean FROM fix_sessions')
  ).rows[0]!;

forEachDb('FIX session store', (makeDb) => {
  it('keeps sequence numbers and application messages across a clean stop', async () => {
    const db = await makeDb();
    const a = open(db);
    await a.initialize();
    expect([a.senderSeqNum, a.targetSeqNum]).toEqual([1, 1]);
    await sent(a, 1, 'A');
    await sent(a, 2, '8', { ClOrdID: 'x', Price: '1.25' });
    await sent(a, 3, '0');
    await a.setTargetSeqNum(5);
    await a.dispose();
    expect(await row(db)).toMatchObject({ next_sender_seq: 4, next_target_seq: 5, clean: true });

    const b = open(db);
    await b.initialize();
    expect([b.senderSeqNum, b.targetSeqNum]).toEqual([4, 5]);
    const stored = await b.getRange(1, 3);
    // only the application message is kept, with the body it was sent with
    expect(stored.map((r) => [r.seqNum, r.msgType, r.obj])).toEqual([
      [2, '8', { ClOrdID: 'x', Price: '1.25' }],
    ]);
    // a resend re-encodes seq 2: the original stays, the sender does not go back
    await sent(b, 2, '8', { ClOrdID: 'changed' });
    expect(b.senderSeqNum).toBe(4);
    expect((await b.get(2))?.obj).toEqual({ ClOrdID: 'x', Price: '1.25' });

    await b.reset();
    await b.flush();
    expect([b.senderSeqNum, b.targetSeqNum]).toEqual([1, 1]);
    expect(await b.getRange(1, 100)).toEqual([]);
    await b.dispose();
  });

  it('never reuses a sequence number after a crash: it goes on from the reserved mark', async () => {
    const db = await makeDb();
    const a = open(db);
    await a.initialize();
    for (let seq = 1; seq <= 600; seq++) await sent(a, seq, '0');
    await a.flush();
    const stored = await row(db);
    expect(stored.next_sender_seq).toBe(601);
    expect(stored.sender_seq_reserved).toBeGreaterThanOrEqual(601 + SEQ_BLOCK / 2);
    // more messages go out, and the process dies before they are written
    for (let seq = 601; seq <= 620; seq++) await sent(a, seq, '0');
    // (no flush, no dispose)

    const b = open(db);
    await b.initialize();
    expect(b.senderSeqNum).toBe(stored.sender_seq_reserved);
    expect(b.senderSeqNum).toBeGreaterThan(620);
    expect((await row(db)).clean).toBe(false);
    await b.dispose();
  });

  it('stops without hanging when its writes fail as it closes (the database is gone)', async () => {
    const db = await makeDb();
    let down = false;
    const fail = () => Promise.reject(new Error('the database is gone'));
    // the store's view of the database: the real one until it goes down
    const flaky = new Proxy(db, {
      get: (target, prop, receiver) =>
        down && (prop === 'query' || prop === 'transaction') ? fail : Reflect.get(target, prop, receiver),
    });
    const a = open(flaky);
    await a.initialize();
    await sent(a, 1, '8', { n: 1 });
    await a.flush();
    await sent(a, 2, '8', { n: 2 });
    down = true;
    // before the fix this retried forever (a FIX service's close never returned)
    await a.dispose();
    down = false;
    // nothing marked clean: the next logon goes on from the reserved mark, never reusing seq 2
    const stored = await row(db);
    expect(stored.clean).toBe(false);
    const b = open(db);
    await b.initialize();
    expect(b.senderSeqNum).toBe(stored.sender_seq_reserved);
    expect(b.senderSeqNum).toBeGreaterThan(2);
    await b.dispose();
  });

  it('fences out a process that still holds a session taken over elsewhere', async () => {
    const db = await makeDb();
    const fenced = vi.fn();
    const a = open(db, fenced);
    await a.initialize();
    await sent(a, 1, '8', { n: 1 });
    await a.flush();

    const b = open(db);
    await b.initialize();
    await sent(a, 2, '8', { n: 2 });
    await a.flush();
    expect(fenced).toHaveBeenCalledTimes(1);
    expect(a.isFenced).toBe(true);
    expect((await b.getRange(1, 10)).map((r) => r.seqNum)).toEqual([1]);
    await a.dispose();
    expect((await row(db)).clean).toBe(false); // the stale one cannot mark it closed either
    await b.dispose();
    expect((await row(db)).clean).toBe(true);
  });
});

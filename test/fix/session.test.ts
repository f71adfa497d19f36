/**
 * The FIX session layer end to end, on PGlite and PostgreSQL, with a jspurefix initiator over TCP:
 * who may log on, what a refusal says, heartbeats, one session per (API key, SenderCompID),
 * and sequence numbers that survive disconnects and restarts (ResendRequest, SequenceReset-GapFill,
 * ResetSeqNumFlag).
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createMemoryBus } from '../../src/platform/bus/memory.ts';
import { forEachDb } from '../support/db.ts';
import { eventually } from '../users/harness.ts';
import { type ClientOptions, clientStore, FixClient } from './client.ts';
import { type FixStack, logger, SYMBOL, startStack, type Trader } from './harness.ts';
import { cancel, expectExecutionReport, isReport, newOrder } from './messages.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

forEachDb('FIX sessions', (makeDb) => {
  let stack: FixStack;
  beforeAll(async () => {
    stack = await startStack(await makeDb(), createMemoryBus({ logger }), {
      logonPerKey: { capacity: 3, refillPerSec: 0.001 },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  let compIds = 0;
  const options = (t: Trader, more: Partial<ClientOptions> = {}): ClientOptions => ({
    port: stack.fix.port,
    senderCompId: `S${++compIds}`,
    username: t.keyId,
    password: t.secret,
    ...more,
  });

  async function refusal(o: ClientOptions): Promise<string | undefined> {
    const c = FixClient.start(o);
    await c.ended;
    expect(c.received.some((m) => m.msgType === 'A')).toBe(false);
    return c.received.find((m) => m.msgType === '5')?.get(58);
  }

  const sessionRows = async (keyId: string): Promise<number> =>
    (
      await stack.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM fix_sessions WHERE api_key_id = $1',
        [keyId],
      )
    ).rows[0]!.n;

  it('refuses a bad key or secret and a wrong TargetCompID with a Logout saying why, storing nothing', async () => {
    const t = await stack.trader();
    expect(await refusal(options(t, { password: 'not-the-secret' }))).toBe('invalid API key id or secret');
    expect(await refusal(options(t, { username: 'BKNOSUCHKEY', password: t.secret }))).toBe(
      'invalid API key id or secret',
    );
    expect(await refusal(options(t, { targetCompId: 'NYSE' }))).toBe(
      "TargetCompID (56) must be BOURSE, not 'NYSE'",
    );
    expect(await sessionRows(t.keyId)).toBe(0);
    // the key itself still works
    const c = await FixClient.connect(options(t));
    await c.logout();
    expect(await sessionRows(t.keyId)).toBe(1);
  });

  it('rate-limits logon attempts per API key', async () => {
    const t = await stack.trader();
    for (let i = 0; i < 3; i++) {
      expect(await refusal(options(t, { password: 'wrong' }))).toBe('invalid API key id or secret');
    }
    // now even the right secret waits
    expect(await refusal(options(t))).toMatch(/^too many logon attempts for this API key; retry in \d+ s$/);
  });

  it('sends heartbeats at the client’s interval and answers a TestRequest', async () => {
    const t = await stack.trader();
    const c = await FixClient.connect(options(t, { heartBtInt: 1 }));
    expect(c.received[0]!.get(108)).toBe('1');
    await c.waitFor((m) => m.msgType === '0' && m.get(112) === undefined, 'a heartbeat');
    c.send('1', { TestReqID: 'are-you-there' });
    await c.waitFor((m) => m.msgType === '0' && m.get(112) === 'are-you-there', 'the answer');
    await c.logout();
  });

  it('keeps one session per (API key, SenderCompID): separate sequences, a new logon replaces the old', async () => {
    const t = await stack.trader();
    const a = await FixClient.connect(options(t, { senderCompId: 'DESK-A' }));
    a.send('D', newOrder('a-1', { price: '90.00', tif: '1' }));
    await a.waitFor(isReport('a-1', '0'), 'New');
    const b = await FixClient.connect(options(t, { senderCompId: 'DESK-B' }));
    expect(b.received[0]!.seq).toBe(1);
    expect(a.received.at(-1)!.seq).toBe(2);

    // DESK-A again, from another connection: the first one is dropped
    const a2 = await FixClient.connect(
      options(t, { senderCompId: 'DESK-A', resetSeqNum: false, store: a.store }),
    );
    await a.ended;
    expect(a2.received[0]!.seq).toBe(3);
    await a2.logout();
    await b.logout();
  });

  it('resends what a reconnecting client missed, and gap-fills the rest', async () => {
    const t = await stack.trader();
    const c = await FixClient.connect(options(t));
    c.send('D', newOrder('r-1', { price: '91.00', tif: '1' }));
    const first = await c.waitFor(isReport('r-1', '0'), 'New r-1');
    c.send('D', newOrder('r-2', { price: '91.00', tif: '1' }));
    const second = await c.waitFor(isReport('r-2', '0'), 'New r-2');
    // (failed twice in CI with [2, 4]: a reject of r-2 by the logon's reconciliation, fixed in desk.ts
    // and held open step by step in orders.test.ts; the messages are named here if it happens again)
    const seen = c.received.map(
      (m) => `${m.seq}:${m.msgType}:${m.get(11) ?? ''}:${m.get(150) ?? ''}:${m.get(58) ?? ''}`,
    );
    expect([first.seq, second.seq], seen.join(' | ')).toEqual([2, 3]);
    await c.drop(); // no Logout: the connection just goes

    // the client lost everything after the Logon answer (seq 1)
    c.store.targetSeqNum = 2;
    const again = await FixClient.connect(
      options(t, { senderCompId: c.options.senderCompId, resetSeqNum: false, store: c.store }),
    );
    const logonAnswer = again.received[0]!;
    expect(logonAnswer.seq).toBe(4);
    // the Logon answer is not resent: a SequenceReset-GapFill stands for it
    const gapFill = await again.waitFor((m) => m.msgType === '4', 'the gap fill of the Logon');
    expect(gapFill.get(123)).toBe('Y');
    expect(gapFill.seq).toBe(4);
    const resent = [
      await again.waitFor((m) => isReport('r-1', '0')(m) && m.get(43) === 'Y', 'r-1 resent'),
      await again.waitFor((m) => isReport('r-2', '0')(m) && m.get(43) === 'Y', 'r-2 resent'),
    ];
    expect(again.sent.some((m) => m.msgType === '2' && m.get(7) === '2')).toBe(true);
    expect(resent.map((m) => m.seq)).toEqual([2, 3]);
    for (const m of resent) {
      expect(m.get(122)).toBeDefined(); // OrigSendingTime
      expectExecutionReport(m, { 39: '0' });
    }
    expect(resent[0]!.get(17)).toBe(first.get(17));
    expect(resent[0]!.get(60)).toBe(first.get(60));

    // and the session goes on
    again.send('D', newOrder('r-3', { price: '91.00', tif: '1' }));
    const r3 = await again.waitFor(isReport('r-3', '0'), 'New r-3');
    expect(r3.seq).toBe(Number(gapFill.get(36)));
    await again.logout();
  });

  it('asks a client for what it missed from it (ResendRequest) and takes the gap fill', async () => {
    const t = await stack.trader();
    const c = await FixClient.connect(options(t));
    await c.logout();
    const next = c.store.senderSeqNum;
    c.store.senderSeqNum = next + 3; // three of the client's messages never arrived
    const again = await FixClient.connect(
      options(t, { senderCompId: c.options.senderCompId, resetSeqNum: false, store: c.store }),
    );
    const ask = await again.waitFor((m) => m.msgType === '2', 'a ResendRequest');
    expect(ask.get(7)).toBe(String(next));
    again.send('D', newOrder('after-gap', { price: '91.00', tif: '1' }));
    await again.waitFor(isReport('after-gap', '0'), 'New after the gap');
    await again.logout();
  });

  it('refuses a Logon whose MsgSeqNum is too low, and resets both sides on ResetSeqNumFlag', async () => {
    const t = await stack.trader();
    const c = await FixClient.connect(options(t));
    c.send('D', newOrder('z-1', { price: '91.00', tif: '1' }));
    await c.waitFor(isReport('z-1', '0'), 'New');
    await c.logout();
    const expected = c.store.senderSeqNum;

    const stale = clientStore(c.options.senderCompId);
    const text = await refusal(
      options(t, { senderCompId: c.options.senderCompId, resetSeqNum: false, store: stale }),
    );
    expect(text).toMatch(new RegExp(`^MsgSeqNum too low, expecting ${expected} but received 1`));

    const fresh = await FixClient.connect(
      options(t, { senderCompId: c.options.senderCompId, resetSeqNum: true, store: stale }),
    );
    const answer = fresh.received[0]!;
    expect(answer.seq).toBe(1);
    expect(answer.get(141)).toBe('Y');
    // the reset forgot the sent messages (written behind the socket: wait for it)
    const stored = async () =>
      (
        await stack.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM fix_messages m JOIN fix_sessions s ON s.id = m.session_id
            WHERE s.api_key_id = $1`,
          [t.keyId],
        )
      ).rows[0]!.n;
    await eventually(async () => ((await stored()) === 0 ? true : undefined));
    // the orders are still known: a cancel by the old ClOrdID works
    fresh.send('F', cancel('z-2', 'z-1'));
    await fresh.waitFor(isReport('z-2', '4'), 'Canceled');
    await fresh.logout();
  });

  it('goes on after the acceptor restarts mid-session, reporting what happened meanwhile', async () => {
    const t = await stack.trader();
    const seller = await stack.trader();
    const c = await FixClient.connect(options(t, { resetSeqNum: true }));
    c.send('D', newOrder('k-1', { qty: 10, price: '97.00', tif: '1' }));
    const k1 = await c.waitFor(isReport('k-1', '0'), 'New k-1');
    c.send('D', newOrder('k-2', { qty: 5, price: '96.00', tif: '1' }));
    await c.waitFor(isReport('k-2', '0'), 'New k-2');

    await stack.stopFix();
    const bye = await c.waitFor((m) => m.msgType === '5', 'the Logout');
    expect(bye.get(58)).toBe('Bourse is shutting down');
    await c.ended;
    const lastFromServer = c.received.at(-1)!.seq;

    // while the FIX service is down, k-1 fills against an order from another channel
    await stack.client.submitOrder(seller.userId, {
      symbol: SYMBOL,
      side: 'sell',
      type: 'limit',
      qty: 10,
      price: 9700,
    });
    await stack.startFix();

    const again = await FixClient.connect(
      options(t, { senderCompId: c.options.senderCompId, resetSeqNum: false, store: c.store }),
    );
    const answer = again.received[0]!;
    expect(answer.seq).toBe(lastFromServer + 1); // no reset, no gap
    expect(answer.get(141)).not.toBe('Y');
    expect(again.sent.some((m) => m.msgType === '2')).toBe(false);
    const fill = await again.waitFor(isReport('k-1', 'F'), 'the fill made while away');
    expectExecutionReport(fill, { 37: k1.get(37)!, 39: '2', 14: '10', 32: '10', 31: '97.00', 151: '0' });

    // the ClOrdID chain survived the restart
    again.send('F', cancel('k-3', 'k-2'));
    const canceled = await again.waitFor(isReport('k-3', '4'), 'Canceled k-2');
    expect(canceled.get(41)).toBe('k-2');
    await again.logout();
  });
});

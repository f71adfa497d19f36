/**
 * One FIX connection: jspurefix's AsciiSession (framing, heartbeats, TestRequest, sequence checks,
 * gap detection, logout) with Bourse's rules around it.
 *
 * - The Logon is held back until it is verified (logon.ts): rate limits, TargetCompID, the API key.
 *   A refusal is a Logout whose Text says why, then a disconnect; nothing is stored for a refused
 *   peer. Only then does the engine see the Logon, bind the session (one per API key and
 *   SenderCompID) to its stored sequence numbers (session-store.ts) and answer it.
 * - A Logon whose MsgSeqNum is below the expected one (and no ResetSeqNumFlag) gets a Logout
 *   saying which number was expected. ResetSeqNumFlag=Y resets both sides to 1 at any logon, and
 *   the answer carries 141=Y.
 * - ResendRequest: application messages are resent from the store with PossDupFlag=Y and their
 *   OrigSendingTime; administrative ones (and anything not stored) are covered by
 *   SequenceReset-GapFill. New reports wait until the resend is out.
 * - Application messages go to the session's desk (desk.ts); what cannot be read gets a Reject.
 */

import type { Logger } from '../../platform/logger.ts';
import type { VerifiedIdentity } from '../users/client.ts';
import type { Desk } from './desk.ts';
import { redactFix } from './engine-log.ts';
import {
  AsciiSession,
  asMutable,
  type IJsFixConfig,
  type ILooseObject,
  type MsgView,
  SessionState,
} from './jspurefix.ts';
import type { LogonAttempt, LogonVerdict } from './logon.ts';
import { OUR_COMP_ID } from './logon.ts';
import { SessionRejectReason } from './mapping.ts';
import { businessMessageReject, type FixBody, sessionReject } from './reports.ts';
import { parseInbound, Tag } from './requests.ts';
import { answerTestRequests } from './session-messages.ts';
import type { DbSessionStore, SessionKey } from './session-store.ts';

/** How long a connection may stay without logging on. */
export const LOGON_TIMEOUT_MS = 10_000;
/** How long a Logout of ours waits for the client's before the connection is dropped. */
const LOGOUT_WAIT_MS = 2_000;

export interface SessionContext {
  remoteIp: string;
  logger: Logger;
  verify(attempt: LogonAttempt): Promise<LogonVerdict>;
  openStore(key: SessionKey, onFenced: () => void): DbSessionStore;
  openDesk(args: {
    identity: VerifiedIdentity;
    sessionId: number;
    send: (msgType: string, body: FixBody) => boolean;
  }): Desk;
  /**
   * Makes this the live session of `key` in this process. The one it replaces (a half-open
   * connection, or a second logon) is logged out and its store closed first, so the sequence
   * numbers go on where it left them.
   */
  claim(key: string, session: FixSession): Promise<void>;
  release(key: string, session: FixSession): void;
}

type Phase = 'awaiting' | 'verifying' | 'ready' | 'refused';

interface Transmitter {
  msgSeqNum: number;
}

export class FixSession extends AsciiSession {
  private phase: Phase = 'awaiting';
  private readonly held: { msgType: string; view: MsgView }[] = [];
  private dbStore: DbSessionStore | null = null;
  private desk: Desk | null = null;
  private key: SessionKey | null = null;
  private resending = 0;
  private readonly heldReports: { msgType: string; body: FixBody }[] = [];
  private readonly logonTimer: NodeJS.Timeout;
  /** TestReqIDs received and not answered yet */
  private readonly testRequests = new Set<string>();
  private endedResolve!: () => void;
  /** Resolves once the session has stopped and its store is flushed. */
  readonly ended = new Promise<void>((resolve) => {
    this.endedResolve = resolve;
  });

  constructor(
    config: IJsFixConfig,
    private readonly ctx: SessionContext,
  ) {
    super(config);
    this.checkMsgIntegrity = true;
    // the engine reports a session's end as an 'error' event too; run() and onStopped see it, and
    // an EventEmitter throws an 'error' nobody listens to (a stop after run() has settled)
    this.on('error', () => {});
    answerTestRequests(config.description, (id) => this.testRequests.delete(id));
    // the engine builds the session's store when it binds to the peer; by then ours is loaded
    config.sessionStoreFactory = {
      create: () => {
        if (!this.dbStore) throw new Error('session store requested before the logon was verified');
        return this.dbStore;
      },
    };
    this.logonTimer = setTimeout(() => {
      if (this.phase === 'awaiting' || this.phase === 'verifying') {
        ctx.logger.info({ remoteIp: ctx.remoteIp }, 'fix: no logon in time; disconnecting');
        this.terminate(new Error('no logon in time'));
      }
    }, LOGON_TIMEOUT_MS);
    this.logonTimer.unref();
  }

  /** The session's name in logs: API key id / SenderCompID. */
  get name(): string {
    return this.key ? `${this.key.apiKeyId}/${this.key.senderCompId}` : `(${this.ctx.remoteIp})`;
  }

  private get transmitter(): Transmitter | undefined {
    return this.transport?.transmitter as unknown as Transmitter | undefined;
  }

  // --- logon ------------------------------------------------------------------------------------

  protected override onMsg(msgType: string, view: MsgView): void {
    switch (this.phase) {
      case 'ready':
        if (msgType === '1') this.testRequests.add(view.getString(112) ?? '');
        super.onMsg(msgType, view);
        return;
      case 'verifying':
        this.held.push({ msgType, view: view.clone() });
        return;
      case 'refused':
        return;
      case 'awaiting':
        // anything but a Logon first: the engine drops the connection
        if (msgType !== 'A') {
          super.onMsg(msgType, view);
          return;
        }
        this.phase = 'verifying';
        this.transport?.duplex.readable?.pause();
        void this.verifyLogon(view.clone());
    }
  }

  private async verifyLogon(logon: MsgView): Promise<void> {
    const { ctx } = this;
    const attempt: LogonAttempt = {
      remoteIp: ctx.remoteIp,
      beginString: logon.getString(8),
      senderCompId: logon.getString(Tag.SenderCompID),
      targetCompId: logon.getString(Tag.TargetCompID),
      username: logon.getString(553),
      password: logon.getString(554),
      heartBtInt: logon.getString(108),
    };
    let verdict: LogonVerdict;
    try {
      verdict = await ctx.verify(attempt);
    } catch (err) {
      ctx.logger.error({ err }, 'fix: logon verification failed');
      verdict = { ok: false, text: 'authentication is unavailable; retry later' };
    }
    if (this.getState() === SessionState.Stopped) return;
    if (!verdict.ok) {
      ctx.logger.info(
        {
          remoteIp: ctx.remoteIp,
          senderCompId: attempt.senderCompId,
          apiKeyId: attempt.username,
          reason: verdict.text,
        },
        'fix: logon refused',
      );
      this.refuse(verdict.text, attempt.senderCompId);
      return;
    }

    const key: SessionKey = {
      apiKeyId: verdict.apiKeyId,
      senderCompId: verdict.senderCompId,
      userId: verdict.identity.userId,
    };
    this.key = key;
    await ctx.claim(this.name, this);
    if (this.getState() === SessionState.Stopped) return;
    const store = ctx.openStore(key, () => this.requestStop('the session logged on elsewhere'));
    try {
      await store.initialize();
    } catch (err) {
      ctx.logger.error({ err }, 'fix: loading the session failed');
      this.refuse('the session cannot be loaded now; retry later', key.senderCompId);
      return;
    }
    if (this.getState() === SessionState.Stopped) return;
    this.dbStore = store;

    const seq = Number(logon.getString(Tag.MsgSeqNum));
    const reset = logon.getString(141) === 'Y';
    if (!reset && seq < store.targetSeqNum) {
      // persisted like any message we send, so the next logon's answer follows it
      const transmitter = this.transmitter;
      if (transmitter) transmitter.msgSeqNum = store.senderSeqNum;
      await store.setSenderSeqNum(store.senderSeqNum + 1);
      this.refuse(
        `MsgSeqNum too low, expecting ${store.targetSeqNum} but received ${seq}; ` +
          'log on with the expected number, or with ResetSeqNumFlag (141=Y) to start again from 1',
        key.senderCompId,
      );
      return;
    }

    // the engine answers with the client's heartbeat interval
    asMutable(this.config.description).HeartBtInt = verdict.heartBtInt;
    (this.sessionState as { heartBeat: number }).heartBeat = verdict.heartBtInt;
    this.phase = 'ready';
    const desk = ctx.openDesk({
      identity: verdict.identity,
      sessionId: store.id,
      send: (msgType, body) => this.sendReport(msgType, body),
    });
    this.desk = desk;
    super.onMsg('A', logon);
    for (const h of this.held.splice(0)) super.onMsg(h.msgType, h.view);
  }

  /** Logout with the reason, then hang up. */
  private refuse(text: string, peerCompId: string | null): void {
    this.phase = 'refused';
    this.held.length = 0;
    if (peerCompId) asMutable(this.config.description).TargetCompID = peerCompId;
    const logout = this.config.factory?.logout('5', text);
    if (!logout) {
      this.terminate(new Error(text));
      return;
    }
    this.send('5', logout, () => setImmediate(() => this.terminate(new Error(`logon refused: ${text}`))));
  }

  protected override onLogon(view: MsgView): boolean {
    // answer a reset with a reset (the engine has already reset both sides to 1)
    if (view.getString(141) === 'Y') asMutable(this.config.description).ResetSeqNumFlag = true;
    return true;
  }

  protected override onReady(): void {
    clearTimeout(this.logonTimer);
    const { ctx } = this;
    ctx.logger.info(
      {
        session: this.name,
        remoteIp: ctx.remoteIp,
        userId: this.key?.userId,
        nextSender: this.transmitter?.msgSeqNum,
        nextTarget: this.coordinator.expectedTargetSeqNum,
      },
      'fix: session logged on',
    );
    this.desk
      ?.start()
      .catch((err: unknown) => ctx.logger.error({ err, session: this.name }, 'fix: desk start failed'));
  }

  // --- application messages ---------------------------------------------------------------------

  protected override onApplicationMsg(msgType: string, view: MsgView): void {
    const refSeqNum = Number(view.getString(Tag.MsgSeqNum));
    if (
      view.getString(Tag.TargetCompID) !== OUR_COMP_ID ||
      view.getString(Tag.SenderCompID) !== this.key?.senderCompId
    ) {
      this.send(
        '3',
        sessionReject({
          refSeqNum,
          refMsgType: msgType,
          refTagId: Tag.TargetCompID,
          reason: SessionRejectReason.CompIdProblem,
          text: `messages of this session go from ${this.key?.senderCompId} to ${OUR_COMP_ID}`,
        }),
      );
      return;
    }
    const inbound = parseInbound(msgType, view);
    switch (inbound.kind) {
      case 'session_reject':
        this.send(
          '3',
          sessionReject({
            refSeqNum,
            refMsgType: msgType,
            refTagId: inbound.refTagId,
            reason: inbound.reason,
            text: inbound.text,
          }),
        );
        return;
      case 'business_reject':
        this.sendReport(
          'j',
          businessMessageReject({
            refSeqNum,
            refMsgType: msgType,
            reason: inbound.reason,
            text: inbound.text,
          }),
        );
        return;
      default:
        this.desk?.handle(inbound, refSeqNum);
    }
  }

  /** Sends (and stores, for resends) an application message; false once the session is down. */
  private sendReport(msgType: string, body: FixBody): boolean {
    if (this.getState() === SessionState.Stopped || !this.transport) return false;
    if (this.resending > 0) {
      this.heldReports.push({ msgType, body });
      return true;
    }
    this.send(msgType, body, (err, result) => {
      const seq = result.header?.MsgSeqNum as number | undefined;
      if (!err && seq !== undefined) this.dbStore?.attachBody(seq, body);
    });
    return true;
  }

  // --- resend -----------------------------------------------------------------------------------

  protected override onResendRequest(view: MsgView): void {
    const begin = Number(view.getString(7));
    const requested = Number(view.getString(16));
    const last = (this.transmitter?.msgSeqNum ?? 1) - 1;
    const end = requested === 0 || requested > last ? last : requested;
    this.ctx.logger.info({ session: this.name, begin, end }, 'fix: resend requested');
    this.resending++;
    this.resend(begin, end)
      .catch((err: unknown) => this.ctx.logger.error({ err, session: this.name }, 'fix: resend failed'))
      .finally(() => {
        this.resending--;
        if (this.resending === 0) {
          for (const r of this.heldReports.splice(0)) this.sendReport(r.msgType, r.body);
        }
      });
  }

  private async resend(begin: number, end: number): Promise<void> {
    if (!this.dbStore || begin < 1 || end < begin) return;
    const records = await this.dbStore.getRange(begin, end);
    let gapFrom = begin;
    const gapFill = (next: number): void => {
      if (next <= gapFrom) return;
      this.send('4', {
        StandardHeader: { MsgSeqNum: gapFrom, PossDupFlag: true, SendingTime: new Date() },
        GapFillFlag: true,
        NewSeqNo: next,
      });
    };
    for (const r of records) {
      if (!r.obj) continue;
      gapFill(r.seqNum);
      this.send(r.msgType, {
        ...(r.obj as ILooseObject),
        StandardHeader: { MsgSeqNum: r.seqNum, PossDupFlag: true, SendingTime: r.timestamp },
      });
      gapFrom = r.seqNum + 1;
    }
    gapFill(end + 1);
  }

  // --- the end ----------------------------------------------------------------------------------

  /**
   * Logs out (when logged on, and `logout`) with `text`, waits briefly for the client's Logout,
   * then hangs up; resolves once the session's store is closed.
   */
  async shutdown(text: string, logout = true): Promise<void> {
    const state = this.getState();
    if (
      logout &&
      (state === SessionState.ActiveNormalSession ||
        state === SessionState.InitiationLogonResponse ||
        state === SessionState.AwaitingProcessingResponseToTestRequest)
    ) {
      this.setState(SessionState.WaitingLogoutConfirm);
      this.sessionState.logoutSentAt = new Date();
      this.sendLogout(text);
      const timeout = new Promise((r) => setTimeout(r, LOGOUT_WAIT_MS).unref());
      await Promise.race([this.ended, timeout]);
    }
    if (this.getState() !== SessionState.Stopped) this.requestStop(text);
    await this.ended;
  }

  protected override onStopped(error?: Error): void {
    clearTimeout(this.logonTimer);
    const { ctx } = this;
    if (this.phase === 'ready') {
      ctx.logger.info({ session: this.name, reason: error?.message ?? 'logout' }, 'fix: session ended');
    }
    this.phase = 'refused';
    void (async () => {
      try {
        await this.desk?.stop();
        await this.dbStore?.dispose();
      } catch (err) {
        ctx.logger.error({ err, session: this.name }, 'fix: closing the session failed');
      } finally {
        if (this.key) ctx.release(this.name, this);
        this.endedResolve();
      }
    })();
  }

  protected override onDecoded(msgType: string, txt: string): void {
    if (this.ctx.logger.isLevelEnabled('trace'))
      this.ctx.logger.trace({ session: this.name, msgType, in: redactFix(txt) }, 'fix: received');
  }

  protected override onEncoded(msgType: string, txt: string): void {
    if (this.ctx.logger.isLevelEnabled('trace'))
      this.ctx.logger.trace({ session: this.name, msgType, out: txt }, 'fix: sent');
  }
}

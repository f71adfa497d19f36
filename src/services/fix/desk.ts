/**
 * One FIX session's order desk: it turns requests into calls on the orders service (its typed
 * client) and every change of the session's orders into ExecutionReports, whoever caused it: this
 * session, the REST API or the web terminal, a counterparty's fill, the close.
 *
 * Reports follow a simple rule: compare what the session has reported about an order (Reported,
 * persisted) with the order's state as last seen, and report the difference. The order's state
 * arrives from three places: the orders service's answer to a request, the execution events on the
 * bus (`orders.exec.<account>`), and a read of the order at logon. All three go through `observe`,
 * so a report is never sent twice, none is lost when the bus drops a message or the session was
 * away, and fills the session has not reported yet are read from the account's trades and
 * reported, in order, before a cancel or a replace that came after them.
 *
 * Requests and events of one session are handled one at a time, in arrival order.
 */
import type { Bus, Unsubscribe } from '../../platform/bus/types.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Logger } from '../../platform/logger.ts';
import type { BucketRule, RateLimiter } from '../../platform/ratelimit/types.ts';
import {
  type Execution,
  type Order,
  OrdersApiError,
  type OrdersClient,
  PROBLEM_BASE,
  type Problem,
  type ReplaceRequest as ReplaceCall,
} from '../orders/client.ts';
import { type ExecMessage, subjects } from '../orders/events.ts';
import type { UsersClient, VerifiedIdentity } from '../users/client.ts';
import { formatCents } from './decimal.ts';
import {
  BusinessRejectReason,
  CANCEL_TEXT,
  CxlRejReason,
  CxlRejResponseTo,
  ExecType,
  OrdRejReason,
  ordRejReasonOf,
  SIDE_CODE,
} from './mapping.ts';
import type { ClOrdIdRecord, OrderRecords, Reported } from './order-records.ts';
import {
  businessMessageReject,
  executionReport,
  type Figures,
  type Fill,
  type FixBody,
  orderCancelReject,
  type ReportInput,
  rejectedOrder,
  unknownOrderStatus,
} from './reports.ts';
import type {
  CancelRequest,
  NewOrderRequest,
  OrderRequest,
  ReplaceRequest,
  StatusRequest,
} from './requests.ts';

export interface DeskDeps {
  orders: OrdersClient;
  users: UsersClient;
  bus: Bus;
  records: OrderRecords;
  limiter: RateLimiter;
  /** order messages (new, cancel, replace) per user */
  orderRule: BucketRule;
  identity: VerifiedIdentity;
  clock: Clock;
  logger: Logger;
  /** Sends an application message; false when the session can no longer send. */
  send(msgType: string, body: FixBody): boolean;
}

export interface Desk {
  /** Subscribes to the accounts' execution events and reports what changed since the last logon. */
  start(): Promise<void>;
  /** `refSeqNum`: the MsgSeqNum of the message the request came in. */
  handle(request: OrderRequest, refSeqNum: number): void;
  /** Stops taking events; resolves when the work in hand is done. */
  stop(): Promise<void>;
  /** Resolves when every request and event received so far has been handled (tests). */
  idle(): Promise<void>;
}

/** The session lost its connection mid-report: what is not reported is reported at the next logon. */
class Gone extends Error {}

interface Tracked extends Reported {
  /** ClOrdID of this session's cancel in flight */
  pendingCancel: string | null;
  pendingReplace: { clOrdId: string; origClOrdId: string } | null;
}

/** what the session still reports on: a held leg (Pending New) is open, as the orders service has it */
const OPEN = new Set<Reported['status']>(['pending', 'held', 'new', 'partially_filled']);
const isOpen = (s: Reported['status']): boolean => OPEN.has(s);
const TRADE_PAGE = 200;

function problemText(p: Problem): string {
  return p.detail ? `${p.title}: ${p.detail}` : p.title;
}

export function createDesk(deps: DeskDeps): Desk {
  const { orders, records, identity, clock, logger } = deps;
  const tracked = new Map<number, Tracked>();
  /** new orders whose id is not known yet (an outage mid-submit): matched on the bus by ClOrdID */
  const pendingNew = new Map<string, string>();
  const subscriptions = new Map<string, Promise<Unsubscribe>>();
  const actingFor = new Map<string, boolean>();
  let chain: Promise<void> = Promise.resolve();
  /** new orders are admitted in turn; any other request holds later ones until it is done */
  let admission: Promise<unknown> = Promise.resolve();
  let stopped = false;
  let execSeq = 0;

  function enqueue(what: string, fn: () => Promise<void>): void {
    chain = chain.then(async () => {
      if (stopped) return;
      try {
        await fn();
      } catch (err) {
        if (err instanceof Gone) return;
        logger.error({ err, what }, 'fix: handling failed');
      }
    });
  }

  function send(msgType: string, body: FixBody): void {
    if (stopped || !deps.send(msgType, body)) throw new Gone();
  }

  /** An ExecID for a report that is not tied to a state of the order (rejects, status answers). */
  const freshExecId = (prefix: string): string =>
    `${prefix}${clock.now().toString(36)}${(execSeq++).toString(36)}`;

  // --- accounts -------------------------------------------------------------------------------

  function subscribe(account: string): Promise<Unsubscribe> {
    let sub = subscriptions.get(account);
    if (!sub) {
      sub = deps.bus.subscribe<ExecMessage>(subjects.exec(account), (msg) => {
        enqueue('execution event', () => onExec(msg.data));
      });
      subscriptions.set(account, sub);
    }
    return sub;
  }

  /** The account a request acts on, or why it may not: own, or a client of a broker / admin. */
  async function accountFor(named: string | null): Promise<string | { refused: string }> {
    const own = identity.userId;
    if (named === null || named === '' || named === own) return own;
    let allowed = actingFor.get(named);
    if (allowed === undefined) {
      allowed = identity.role !== 'investor' && (await deps.users.canActFor(identity, named));
      actingFor.set(named, allowed);
    }
    if (!allowed) return { refused: `Account (1) ${named}: this API key may not act for that account` };
    await subscribe(named);
    return named;
  }

  async function throttled(): Promise<string | null> {
    const take = await deps.limiter.take(`fix:orders:${identity.userId}`, deps.orderRule);
    return take.allowed
      ? null
      : `throttled: more than ${deps.orderRule.capacity} order messages in a burst (${deps.orderRule.refillPerSec}/s sustained); retry in ${Math.ceil(take.retryAfterMs / 1000)} s`;
  }

  // --- reporting --------------------------------------------------------------------------------

  function track(order: Order, clOrdId: string): Tracked {
    const t: Tracked = {
      orderId: order.id,
      account: order.account,
      symbol: order.symbol,
      clOrdId,
      status: 'pending',
      cumQty: 0,
      notional: 0,
      qty: order.qty,
      price: order.price,
      stopPrice: order.stopPrice,
      triggered: false,
      lastTradeId: 0,
      seenAt: 0,
      open: true,
      pendingCancel: null,
      pendingReplace: null,
    };
    tracked.set(order.id, t);
    return t;
  }

  /** An order this session did not place (REST, another session) that a request now names. */
  async function adopt(order: Order, clOrdId: string): Promise<Tracked> {
    const known = tracked.get(order.id);
    if (known) return known;
    const saved = await records.report(order.id);
    if (saved?.open) {
      const t: Tracked = { ...saved, pendingCancel: null, pendingReplace: null };
      tracked.set(order.id, t);
      return t;
    }
    // its history before now is not this session's to report: start from the current state
    const t = track(order, clOrdId);
    Object.assign(t, {
      status: order.status,
      cumQty: order.filledQty,
      notional: order.filledNotional,
      triggered: order.triggered,
      seenAt: order.updatedAt,
    });
    t.lastTradeId = await lastTradeIdOf(order);
    return t;
  }

  function report(t: Tracked, order: Order, r: Omit<ReportInput, 'order'>): void {
    send('8', executionReport({ order, ...r }));
    t.status = r.figures.status;
  }

  const liveStatus = (t: Tracked, order: Order): Order['status'] =>
    t.cumQty >= order.qty
      ? 'filled'
      : t.cumQty > 0
        ? 'partially_filled'
        : order.status === 'held'
          ? 'held'
          : 'new';

  const figuresOf = (t: Tracked, order: Order, status: Order['status']): Figures => ({
    status,
    cumQty: t.cumQty,
    notional: t.notional,
    qty: order.qty,
  });

  /**
   * Reports whatever `order` shows that the session has not reported yet, in the order it
   * happened: the New (Pending New for a held leg, then New when it is released), fills, a
   * replace, a trailing stop's new stop price (Restated), a stop's trigger, the end.
   * `replaced`: the state comes from a replace (this session's or another channel's).
   */
  async function observe(t: Tracked, order: Order, hint: { fill?: Fill; replaced?: boolean } = {}) {
    if (order.updatedAt < t.seenAt) return; // an older state than one already reported
    try {
      if (t.status === 'pending' && order.status === 'held') {
        report(t, order, {
          clOrdId: t.clOrdId,
          execId: `${order.id}.A`,
          execType: ExecType.PendingNew,
          figures: { status: 'held', cumQty: 0, notional: 0, qty: order.qty },
          ts: order.createdAt,
          text: 'held until its entry order fills',
        });
      }
      if ((t.status === 'pending' || t.status === 'held') && order.status !== 'held') {
        report(t, order, {
          clOrdId: t.clOrdId,
          execId: `${order.id}.N`,
          execType: ExecType.New,
          figures: { status: 'new', cumQty: 0, notional: 0, qty: order.qty },
          ts: t.status === 'held' ? order.updatedAt : order.createdAt,
        });
      }
      if (order.filledQty > t.cumQty) await reportFills(t, order, hint.fill);

      const changed = order.qty !== t.qty || order.price !== t.price || order.stopPrice !== t.stopPrice;
      // a trailing stop's stop price moves with the market: a restatement, not a replace
      const trailed =
        order.orderType === 'trailing_stop' &&
        !hint.replaced &&
        !t.pendingReplace &&
        order.qty === t.qty &&
        order.price === t.price;
      if (changed && trailed && isOpen(t.status)) {
        report(t, order, {
          clOrdId: t.clOrdId,
          execId: `${order.id}.D${order.updatedAt}`,
          execType: ExecType.Restated,
          figures: figuresOf(t, order, liveStatus(t, order)),
          ts: order.updatedAt,
          text: `trailing stop moved: stop ${formatCents(order.stopPrice)}, high-water mark ${formatCents(order.hwm ?? 0)}`,
        });
        t.stopPrice = order.stopPrice;
      } else if ((changed || (hint.replaced && t.pendingReplace)) && isOpen(t.status)) {
        const pending = t.pendingReplace;
        report(t, order, {
          clOrdId: pending?.clOrdId ?? t.clOrdId,
          origClOrdId: pending?.origClOrdId ?? t.clOrdId,
          execId: `${order.id}.R${order.updatedAt}`,
          execType: ExecType.Replaced,
          figures: figuresOf(t, order, liveStatus(t, order)),
          ts: order.updatedAt,
          text: pending ? undefined : 'replaced through another channel',
        });
        if (pending) t.clOrdId = pending.clOrdId;
        t.pendingReplace = null;
        t.qty = order.qty;
        t.price = order.price;
        t.stopPrice = order.stopPrice;
      }

      if (order.triggered && !t.triggered && isOpen(t.status)) {
        report(t, order, {
          clOrdId: t.clOrdId,
          execId: `${order.id}.L`,
          execType: ExecType.Triggered,
          figures: figuresOf(t, order, liveStatus(t, order)),
          ts: order.updatedAt,
          text: 'stop triggered',
        });
        t.triggered = true;
      }

      if ((order.status === 'canceled' || order.status === 'expired') && isOpen(t.status)) {
        const pending = order.status === 'canceled' ? t.pendingCancel : null;
        report(t, order, {
          clOrdId: pending ?? t.clOrdId,
          origClOrdId: pending ? t.clOrdId : undefined,
          execId: `${order.id}.${order.status === 'canceled' ? 'X' : 'E'}`,
          execType: order.status === 'canceled' ? ExecType.Canceled : ExecType.Expired,
          figures: figuresOf(t, order, order.status),
          ts: order.updatedAt,
          text: pending
            ? undefined
            : order.status === 'expired'
              ? 'expired at the close (day order)'
              : CANCEL_TEXT[order.cancelReason ?? 'user'],
        });
        if (pending) t.clOrdId = pending;
        t.pendingCancel = null;
      }
      t.seenAt = Math.max(t.seenAt, order.updatedAt);
    } finally {
      t.open = isOpen(t.status);
      if (!t.open) tracked.delete(t.orderId);
      await records.saveReport(t);
    }
  }

  /** Fills up to order.filledQty: the one the event carries when it is the next, else read back. */
  async function reportFills(t: Tracked, order: Order, fill: Fill | undefined): Promise<void> {
    const fills: (Fill & { ts: number })[] =
      fill && fill.tradeId > t.lastTradeId && t.cumQty + fill.qty === order.filledQty
        ? [{ ...fill, ts: order.updatedAt }]
        : (await fillsSince(order, t.lastTradeId)).map((e) => ({
            tradeId: e.tradeId,
            price: e.price,
            qty: e.qty,
            fee: e.fee,
            liquidity: e.liquidity,
            ts: e.ts,
          }));
    for (const { ts, ...f } of fills) {
      const cumQty = t.cumQty + f.qty;
      const notional = t.notional + f.price * f.qty;
      const status = cumQty >= order.qty ? 'filled' : 'partially_filled';
      report(t, order, {
        clOrdId: t.clOrdId,
        execId: `${order.id}.T${f.tradeId}`,
        execType: ExecType.Trade,
        figures: { status, cumQty, notional, qty: order.qty },
        ts,
        fill: f,
      });
      t.cumQty = cumQty;
      t.notional = notional;
      t.lastTradeId = f.tradeId;
    }
    if (t.cumQty !== order.filledQty) {
      logger.warn(
        { orderId: order.id, reported: t.cumQty, filled: order.filledQty },
        'fix: the trade history does not account for all of an order’s fills',
      );
    }
  }

  /** The order's executions after `afterTradeId`, oldest first (the account's trades, newest first). */
  async function fillsSince(order: Order, afterTradeId: number): Promise<Execution[]> {
    const found: Execution[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await orders.accountTrades(order.account, {
        symbol: order.symbol,
        limit: TRADE_PAGE,
        ...(cursor ? { cursor } : {}),
      });
      let older = false;
      for (const e of page.items) {
        if (e.tradeId <= afterTradeId || e.ts < order.createdAt) older = true;
        else if (e.orderId === order.id) found.push(e);
      }
      if (older || page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    return found.sort((a, b) => a.tradeId - b.tradeId);
  }

  async function lastTradeIdOf(order: Order): Promise<number> {
    if (order.filledQty === 0) return 0;
    const fills = await fillsSince(order, 0);
    return fills.at(-1)?.tradeId ?? 0;
  }

  // --- requests ---------------------------------------------------------------------------------

  type Submitted = { order: Order; replayed: boolean } | OrdersApiError;
  type Admission =
    | { kind: 'ignore' }
    | { kind: 'reject'; reason: number; text: string; account: string | null }
    | { kind: 'submitted'; account: string; outcome: Promise<Submitted> };

  /**
   * A new order's first half, which may run ahead of the reports of earlier requests: checks,
   * the ClOrdID record, and the call to the orders service (not awaited: the orders of a session
   * share commits). New orders are admitted in arrival order.
   */
  async function admitNew(req: NewOrderRequest): Promise<Admission> {
    const { echo } = req;
    if (req.refused) return { kind: 'reject', ...req.refused, account: req.account };
    const account = await accountFor(req.account);
    if (typeof account !== 'string')
      return {
        kind: 'reject',
        reason: OrdRejReason.UnknownAccount,
        text: account.refused,
        account: req.account,
      };
    const slow = await throttled();
    if (slow) return { kind: 'reject', reason: OrdRejReason.Other, text: slow, account };
    const recorded = await records.recordRequest({
      clOrdId: echo.clOrdId,
      request: 'new',
      account,
      orderId: null,
      origClOrdId: null,
    });
    if (!recorded) {
      // a resend of a request already handled: its reports went out (and resend themselves)
      if (req.possDup) return { kind: 'ignore' };
      const text = `ClOrdID ${echo.clOrdId} was already used on this session`;
      return { kind: 'reject', reason: OrdRejReason.DuplicateOrder, text, account };
    }
    const outcome: Promise<Submitted> = orders
      .submitOrder(account, {
        symbol: req.symbol,
        side: req.side,
        type: req.type,
        tif: req.tif,
        qty: req.qty,
        ...(req.price !== undefined ? { price: req.price } : {}),
        ...(req.stopPrice !== undefined ? { stopPrice: req.stopPrice } : {}),
        ...(req.trailPrice !== undefined ? { trailPrice: req.trailPrice } : {}),
        ...(req.trailBps !== undefined ? { trailBps: req.trailBps } : {}),
        ...(req.postOnly ? { postOnly: true } : {}),
        clientOrderId: echo.clOrdId,
      })
      .catch((err: unknown) =>
        err instanceof OrdersApiError
          ? err
          : new OrdersApiError({
              type: `${PROBLEM_BASE}unavailable`,
              title: 'Unavailable',
              status: 503,
              detail: String(err),
            }),
      );
    return { kind: 'submitted', account, outcome };
  }

  /** A new order's second half, in turn with every other report: the answer. */
  async function finishNew(req: NewOrderRequest, admission: Admission, refSeqNum: number): Promise<void> {
    const { echo } = req;
    const reject = (reason: number, text: string, account: string | null) =>
      send('8', rejectedOrder(echo, account, freshExecId('J'), reason, text, clock.now()));
    if (admission.kind === 'ignore') return;
    if (admission.kind === 'reject') return reject(admission.reason, admission.text, admission.account);
    const { account } = admission;
    const result = await admission.outcome;
    if (result instanceof OrdersApiError) {
      if (result.status >= 500) return resolveUnknown(echo.clOrdId, account, req, refSeqNum);
      await records.setOrderId(echo.clOrdId, 0);
      const p = result.problem;
      const duplicate = p.status === 409;
      return reject(
        duplicate ? OrdRejReason.DuplicateOrder : ordRejReasonOf(p.reason),
        duplicate
          ? `ClOrdID ${echo.clOrdId} is already the client order id of another order of this account`
          : problemText(p),
        account,
      );
    }
    if (result.replayed) {
      // the ClOrdID is an order placed through another channel (REST, another session)
      await records.setOrderId(echo.clOrdId, 0);
      return reject(
        OrdRejReason.DuplicateOrder,
        `ClOrdID ${echo.clOrdId} is already the client order id of order ${result.order.id} of this account`,
        account,
      );
    }
    await records.setOrderId(echo.clOrdId, result.order.id);
    await observe(track(result.order, echo.clOrdId), result.order);
  }

  /** The orders service did not answer: find out whether the order exists before saying anything. */
  async function resolveUnknown(
    clOrdId: string,
    account: string,
    req: NewOrderRequest,
    refSeqNum: number,
  ): Promise<void> {
    try {
      const order = await orders.getOrderByClientId(account, clOrdId);
      await records.setOrderId(clOrdId, order.id);
      await observe(track(order, clOrdId), order);
    } catch (err) {
      if (err instanceof OrdersApiError && err.status === 404) {
        await records.setOrderId(clOrdId, 0);
        send(
          '8',
          rejectedOrder(
            req.echo,
            account,
            freshExecId('J'),
            OrdRejReason.Other,
            'not executed: the orders service is unavailable; send the order again with a new ClOrdID',
            clock.now(),
          ),
        );
        return;
      }
      // still unknown: reported when it shows up on the bus or at the next logon
      pendingNew.set(clOrdId, account);
      send(
        'j',
        businessMessageReject({
          refSeqNum,
          refMsgType: 'D',
          refId: clOrdId,
          reason: BusinessRejectReason.ApplicationNotAvailable,
          text: `the orders service is unavailable: ClOrdID ${clOrdId} will be reported once its outcome is known`,
        }),
      );
    }
  }

  interface Target {
    order: Order;
    account: string;
    /** the ClOrdID the order currently goes by on this session */
    clOrdId: string;
  }

  /** The order a cancel, replace or status request names: by ClOrdID chain, OrderID, or REST client id. */
  async function resolveTarget(
    clOrdId: string,
    orderId: number | null,
    namedAccount: string | null,
  ): Promise<Target | { reason: number; text: string }> {
    const unknown = { reason: CxlRejReason.UnknownOrder, text: `unknown order: ${clOrdId}` };
    const rec: ClOrdIdRecord | null = await records.find(clOrdId);
    let account: string;
    let id: number | null = null;
    if (rec && rec.orderId !== null && rec.orderId > 0) {
      account = rec.account;
      id = rec.orderId;
      if (orderId !== null && orderId !== id)
        return {
          reason: CxlRejReason.UnknownOrder,
          text: `OrderID ${orderId} is not the order of ${clOrdId}`,
        };
    } else {
      const acting = await accountFor(namedAccount);
      if (typeof acting !== 'string') return { reason: CxlRejReason.UnknownOrder, text: acting.refused };
      account = acting;
      id = orderId;
    }
    try {
      const order =
        id !== null ? await orders.getOrder(account, id) : await orders.getOrderByClientId(account, clOrdId);
      const t = tracked.get(order.id) ?? (await records.report(order.id));
      await subscribe(account);
      return { order, account, clOrdId: t?.clOrdId ?? clOrdId };
    } catch (err) {
      if (err instanceof OrdersApiError && err.status === 404) return unknown;
      if (err instanceof OrdersApiError)
        return { reason: CxlRejReason.Other, text: `orders service: ${problemText(err.problem)}` };
      throw err;
    }
  }

  async function onCancelOrReplace(req: CancelRequest | ReplaceRequest): Promise<void> {
    const { echo } = req;
    const isCancel = req.kind === 'cancel';
    const refuse = (
      reason: number,
      text: string,
      order: Order | null = null,
      account: string | null = req.account,
    ) =>
      send(
        '9',
        orderCancelReject({
          orderId: order?.id ?? null,
          clOrdId: echo.clOrdId,
          origClOrdId: req.origClOrdId,
          status: order?.status ?? null,
          account: order?.account ?? account,
          responseTo: isCancel ? CxlRejResponseTo.Cancel : CxlRejResponseTo.Replace,
          reason,
          text,
          ts: clock.now(),
        }),
      );

    if (await records.find(echo.clOrdId)) {
      if (req.possDup) return;
      return refuse(
        CxlRejReason.DuplicateClOrdId,
        `ClOrdID ${echo.clOrdId} was already used on this session`,
      );
    }
    const target = await resolveTarget(req.origClOrdId, req.orderId, req.account);
    if (!('order' in target)) return refuse(target.reason, target.text);
    const { order, account } = target;
    if (req.kind === 'replace' && req.refused) return refuse(req.refused.reason, req.refused.text, order);
    if (echo.symbol !== order.symbol || echo.side !== SIDE_CODE[order.side])
      return refuse(
        CxlRejReason.Other,
        `Symbol (55) and Side (54) must be those of order ${order.id}: ${order.symbol} ${SIDE_CODE[order.side]}`,
        order,
      );
    if (order.status !== 'new' && order.status !== 'partially_filled' && order.status !== 'held')
      return refuse(CxlRejReason.TooLateToCancel, `too late: order ${order.id} is ${order.status}`, order);
    let call: ReplaceCall | null = null;
    if (req.kind === 'replace') {
      if (req.type !== null && req.type !== order.orderType)
        return refuse(
          CxlRejReason.BrokerOption,
          `OrdType (40) cannot change: order ${order.id} is ${order.orderType}`,
          order,
        );
      if (req.tif !== null && req.tif !== order.tif)
        return refuse(
          CxlRejReason.BrokerOption,
          `TimeInForce (59) cannot change: order ${order.id} is ${order.tif}`,
          order,
        );
      call = { qty: req.qty };
      if (req.price !== undefined) call.price = req.price;
      if (req.stopPrice !== undefined) call.stopPrice = req.stopPrice;
      if (req.trailPrice !== undefined) call.trailPrice = req.trailPrice;
      if (req.trailBps !== undefined) call.trailBps = req.trailBps;
    }
    const t = await adopt(order, target.clOrdId);
    if (t.pendingCancel || t.pendingReplace)
      return refuse(
        CxlRejReason.AlreadyPending,
        `order ${order.id} already has a cancel or replace in flight`,
        order,
      );
    const slow = await throttled();
    if (slow) return refuse(CxlRejReason.Other, slow, order);
    await records.recordRequest({
      clOrdId: echo.clOrdId,
      request: req.kind,
      account,
      orderId: order.id,
      origClOrdId: req.origClOrdId,
    });
    if (isCancel) t.pendingCancel = echo.clOrdId;
    else t.pendingReplace = { clOrdId: echo.clOrdId, origClOrdId: t.clOrdId };

    let after: Order;
    try {
      after = call
        ? await orders.replaceOrder(account, order.id, call)
        : await orders.cancelOrder(account, order.id);
    } catch (err) {
      t.pendingCancel = null;
      t.pendingReplace = null;
      if (!(err instanceof OrdersApiError)) throw err;
      const p = err.problem;
      const reason =
        p.status === 404
          ? CxlRejReason.UnknownOrder
          : p.reason === 'order_not_open'
            ? CxlRejReason.TooLateToCancel
            : p.status >= 500
              ? CxlRejReason.Other
              : CxlRejReason.BrokerOption;
      const current = await orders.getOrder(account, order.id).catch(() => order);
      return refuse(reason, problemText(p), current);
    }
    await observe(t, after, { replaced: !isCancel });
  }

  async function onStatus(req: StatusRequest): Promise<void> {
    const target = await resolveTarget(req.clOrdId, req.orderId, req.account);
    if (!('order' in target)) {
      send(
        '8',
        unknownOrderStatus(
          req.clOrdId,
          req.symbol,
          req.side,
          req.ordStatusReqId,
          freshExecId('S'),
          clock.now(),
        ),
      );
      return;
    }
    const { order } = target;
    send(
      '8',
      executionReport({
        order,
        clOrdId: target.clOrdId,
        execId: freshExecId(`${order.id}.S`),
        execType: ExecType.OrderStatus,
        figures: {
          status: order.status,
          cumQty: order.filledQty,
          notional: order.filledNotional,
          qty: order.qty,
        },
        ts: order.updatedAt,
        ordStatusReqId: req.ordStatusReqId,
      }),
    );
  }

  // --- events -----------------------------------------------------------------------------------

  async function onExec(msg: ExecMessage): Promise<void> {
    const order = msg.order;
    if (msg.kind === 'rejected' || !order) return;
    let t = tracked.get(order.id);
    if (!t) {
      const cid = order.clientOrderId;
      if (cid === null || pendingNew.get(cid) !== order.account) return;
      pendingNew.delete(cid);
      await records.setOrderId(cid, order.id);
      t = track(order, cid);
    }
    await observe(
      t,
      order,
      msg.kind === 'fill' && msg.fill ? { fill: msg.fill } : { replaced: msg.kind === 'replaced' },
    );
  }

  /**
   * `earlier`: the new orders of earlier connections whose outcome was never learnt. Read before
   * this connection admits anything, so an order of its own still in flight (recorded, not yet
   * placed) is never judged lost.
   */
  async function reconcile(earlier: Promise<ClOrdIdRecord[]>): Promise<void> {
    for (const rec of await earlier) {
      try {
        const order = await orders.getOrderByClientId(rec.account, rec.clOrdId);
        await records.setOrderId(rec.clOrdId, order.id);
        await observe(track(order, rec.clOrdId), order);
      } catch (err) {
        if (!(err instanceof OrdersApiError)) throw err;
        if (err.status !== 404) {
          pendingNew.set(rec.clOrdId, rec.account);
          continue;
        }
        await records.setOrderId(rec.clOrdId, 0);
        send(
          '8',
          rejectedOrder(
            { clOrdId: rec.clOrdId, symbol: '', side: '', ordType: null, orderQty: null },
            rec.account,
            freshExecId('J'),
            OrdRejReason.Other,
            'not executed: Bourse did not receive this order; send it again with a new ClOrdID',
            clock.now(),
          ),
        );
      }
    }
    for (const t of [...tracked.values()]) {
      try {
        await observe(t, await orders.getOrder(t.account, t.orderId));
      } catch (err) {
        if (err instanceof Gone) throw err;
        logger.warn({ err, orderId: t.orderId }, 'fix: could not read an order at logon');
      }
    }
  }

  return {
    async start() {
      // first, before a message of this connection is admitted (handle() comes after start())
      const earlier = admission.then(() => records.unresolved());
      admission = earlier.catch(() => undefined);
      await subscribe(identity.userId);
      for (const r of await records.openReports()) {
        tracked.set(r.orderId, { ...r, pendingCancel: null, pendingReplace: null });
        await subscribe(r.account);
      }
      enqueue('reconcile at logon', () => reconcile(earlier));
    },
    handle(request, refSeqNum) {
      if (request.kind === 'new') {
        const admitted = admission.then(async (): Promise<Admission> => {
          if (stopped) return { kind: 'ignore' };
          try {
            return await admitNew(request);
          } catch (err) {
            logger.error({ err }, 'fix: admitting a new order failed');
            const text = 'not executed: Bourse could not take the order now; send it again later';
            return { kind: 'reject', reason: OrdRejReason.Other, text, account: request.account };
          }
        });
        admission = admitted;
        enqueue('new', async () => finishNew(request, await admitted, refSeqNum));
        return;
      }
      enqueue(request.kind, () => {
        switch (request.kind) {
          case 'cancel':
          case 'replace':
            return onCancelOrReplace(request);
          case 'status':
            return onStatus(request);
        }
      });
      // a new order after this request waits until it is done
      admission = chain;
    },
    async stop() {
      stopped = true;
      const subs = [...subscriptions.values()];
      subscriptions.clear();
      for (const sub of subs) await (await sub.catch(() => null))?.().catch(() => {});
      await chain;
    },
    idle: () => chain,
  };
}

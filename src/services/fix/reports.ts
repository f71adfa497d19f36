/**
 * The outbound application messages, as the plain objects jspurefix encodes (field names of the
 * QuickFIX FIX 4.4 dictionary). Prices and times are strings, written to the wire as they are,
 * so a stored message resends byte for byte the same body.
 */
import type { Order } from '../orders/client.ts';
import { fixTimestamp, formatAvgPx, formatCents } from './decimal.ts';
import {
  COMM_TYPE_ABSOLUTE,
  ExecType,
  LIQUIDITY_CODE,
  ORD_STATUS_CODE,
  ORD_TYPE_CODE,
  PegOffsetType,
  POST_ONLY_EXEC_INST,
  RESTATED_REPRICING,
  SIDE_CODE,
  TIF_CODE,
  TRAILING_STOP_EXEC_INST,
} from './mapping.ts';
import type { Echo } from './requests.ts';

export type FixBody = Record<string, unknown>;

/** An order's figures as one report states them (a catch-up report states a past moment). */
export interface Figures {
  status: Order['status'];
  cumQty: number;
  /** cents, sum of price × qty of the fills so far */
  notional: number;
  qty: number;
}

export interface Fill {
  tradeId: number;
  price: number;
  qty: number;
  fee: number;
  liquidity: 'maker' | 'taker';
}

export interface ReportInput {
  order: Order;
  clOrdId: string;
  origClOrdId?: string | undefined;
  execId: string;
  execType: string;
  figures: Figures;
  ts: number;
  fill?: Fill | undefined;
  text?: string | undefined;
  ordStatusReqId?: string | null | undefined;
}

/** Orders with quantity still to trade: a held leg (Pending New) included, as the orders service counts it. */
const OPEN: ReadonlySet<Order['status']> = new Set(['held', 'new', 'partially_filled']);

export function executionReport(r: ReportInput): FixBody {
  const { order, figures } = r;
  const body: FixBody = {
    OrderID: String(order.id),
    ClOrdID: r.clOrdId,
  };
  if (r.origClOrdId !== undefined) body.OrigClOrdID = r.origClOrdId;
  if (r.ordStatusReqId) body.OrdStatusReqID = r.ordStatusReqId;
  Object.assign(body, {
    ExecID: r.execId,
    ExecType: r.execType,
    ...(r.execType === ExecType.Restated ? { ExecRestatementReason: RESTATED_REPRICING } : {}),
    OrdStatus: ORD_STATUS_CODE[figures.status],
    Account: order.account,
    Instrument: { Symbol: order.symbol },
    Side: SIDE_CODE[order.side],
    OrderQtyData: { OrderQty: String(figures.qty) },
    OrdType: ORD_TYPE_CODE[order.orderType],
  });
  if (order.orderType === 'limit' || order.orderType === 'stop_limit') body.Price = formatCents(order.price);
  const trailing = order.orderType === 'trailing_stop';
  // a trailing stop's StopPx is its stop now (none before it reaches its activation price)
  if (order.orderType === 'stop' || order.orderType === 'stop_limit' || (trailing && order.stopPrice > 0))
    body.StopPx = formatCents(order.stopPrice);
  if (trailing)
    body.PegInstructions = order.trailBps
      ? { PegOffsetValue: String(order.trailBps), PegOffsetType: Number(PegOffsetType.BasisPoints) }
      : { PegOffsetValue: formatCents(order.trailPrice ?? 0) };
  body.TimeInForce = TIF_CODE[order.tif];
  if (order.postOnly || trailing) body.ExecInst = trailing ? TRAILING_STOP_EXEC_INST : POST_ONLY_EXEC_INST;
  if (r.fill) {
    body.LastQty = String(r.fill.qty);
    body.LastPx = formatCents(r.fill.price);
    body.LastLiquidityInd = LIQUIDITY_CODE[r.fill.liquidity];
    body.CommissionData = { Commission: formatCents(r.fill.fee), CommType: COMM_TYPE_ABSOLUTE };
  }
  body.LeavesQty = String(OPEN.has(figures.status) ? Math.max(0, figures.qty - figures.cumQty) : 0);
  body.CumQty = String(figures.cumQty);
  body.AvgPx = formatAvgPx(figures.notional, figures.cumQty);
  body.TransactTime = fixTimestamp(r.ts);
  if (r.text) body.Text = r.text;
  return body;
}

/** A new order Bourse did not accept: nothing was executed. */
export function rejectedOrder(
  echo: Echo,
  account: string | null,
  execId: string,
  reason: number,
  text: string,
  ts: number,
): FixBody {
  const body: FixBody = {
    OrderID: 'NONE',
    ClOrdID: echo.clOrdId,
    ExecID: execId,
    ExecType: ExecType.Rejected,
    OrdStatus: ORD_STATUS_CODE.rejected,
    OrdRejReason: reason,
  };
  if (account) body.Account = account;
  body.Instrument = { Symbol: echo.symbol || '[N/A]' };
  body.Side = echo.side || '1';
  if (echo.orderQty) body.OrderQtyData = { OrderQty: echo.orderQty };
  if (echo.ordType) body.OrdType = echo.ordType;
  Object.assign(body, {
    LeavesQty: '0',
    CumQty: '0',
    AvgPx: '0',
    TransactTime: fixTimestamp(ts),
    Text: text,
  });
  return body;
}

/** An order status request for an order this account does not have. */
export function unknownOrderStatus(
  clOrdId: string,
  symbol: string | null,
  side: string | null,
  ordStatusReqId: string | null,
  execId: string,
  ts: number,
): FixBody {
  const body: FixBody = {
    OrderID: 'NONE',
    ClOrdID: clOrdId,
  };
  if (ordStatusReqId) body.OrdStatusReqID = ordStatusReqId;
  Object.assign(body, {
    ExecID: execId,
    ExecType: ExecType.OrderStatus,
    OrdStatus: ORD_STATUS_CODE.rejected,
    OrdRejReason: 5,
    Instrument: { Symbol: symbol || '[N/A]' },
    Side: side || '1',
    LeavesQty: '0',
    CumQty: '0',
    AvgPx: '0',
    TransactTime: fixTimestamp(ts),
    Text: 'unknown order',
  });
  return body;
}

export function orderCancelReject(r: {
  orderId: number | null;
  clOrdId: string;
  origClOrdId: string;
  status: Order['status'] | null;
  account: string | null;
  responseTo: string;
  reason: number;
  text: string;
  ts: number;
}): FixBody {
  const body: FixBody = {
    OrderID: r.orderId === null ? 'NONE' : String(r.orderId),
    ClOrdID: r.clOrdId,
    OrigClOrdID: r.origClOrdId,
    OrdStatus: r.status === null ? ORD_STATUS_CODE.rejected : ORD_STATUS_CODE[r.status],
  };
  if (r.account) body.Account = r.account;
  Object.assign(body, {
    TransactTime: fixTimestamp(r.ts),
    CxlRejResponseTo: r.responseTo,
    CxlRejReason: r.reason,
    Text: r.text,
  });
  return body;
}

export function businessMessageReject(r: {
  refSeqNum: number;
  refMsgType: string;
  reason: number;
  text: string;
  refId?: string | undefined;
}): FixBody {
  const body: FixBody = { RefSeqNum: r.refSeqNum, RefMsgType: r.refMsgType };
  if (r.refId) body.BusinessRejectRefID = r.refId;
  Object.assign(body, { BusinessRejectReason: r.reason, Text: r.text });
  return body;
}

export function sessionReject(r: {
  refSeqNum: number;
  refMsgType: string;
  refTagId?: number | undefined;
  reason: number;
  text: string;
}): FixBody {
  const body: FixBody = { RefSeqNum: r.refSeqNum };
  if (r.refTagId !== undefined) body.RefTagID = r.refTagId;
  Object.assign(body, { RefMsgType: r.refMsgType, SessionRejectReason: r.reason, Text: r.text });
  return body;
}

/**
 * Inbound application messages → typed requests, read from the message text (tags, not the
 * engine's float conversions). What the session cannot understand gets a session-level Reject
 * (35=3): a missing conditionally-required tag, a malformed number. What it understands but
 * Bourse will not do (an unsupported order type, an off-tick price, an account the key may not
 * act for) becomes a request carrying `refused`, answered with an ExecutionReport or
 * OrderCancelReject that names the reason. Messages FIX defines that Bourse does not take get a
 * BusinessMessageReject (35=j).
 */
import type { OrderType, Side, TimeInForce } from '../orders/client.ts';
import { parsePrice, parseQty } from './decimal.ts';
import {
  BusinessRejectReason,
  CxlRejReason,
  ORD_TYPES,
  OrdRejReason,
  PegOffsetType,
  POST_ONLY_EXEC_INST,
  SessionRejectReason,
  SIDES,
  TIFS,
  TRAILING_STOP_EXEC_INST,
} from './mapping.ts';

/** The part of jspurefix's MsgView this module reads. */
export interface TagReader {
  getString(tag: number): string | null;
}

export const Tag = {
  Account: 1,
  ClOrdID: 11,
  Currency: 15,
  ExecInst: 18,
  MsgSeqNum: 34,
  MsgType: 35,
  OrderID: 37,
  OrderQty: 38,
  OrdType: 40,
  OrigClOrdID: 41,
  PossDupFlag: 43,
  Price: 44,
  SenderCompID: 49,
  Side: 54,
  Symbol: 55,
  TargetCompID: 56,
  TimeInForce: 59,
  StopPx: 99,
  MinQty: 110,
  MaxFloor: 111,
  ExpireTime: 126,
  PegOffsetValue: 211,
  ExpireDate: 432,
  OrdStatusReqID: 790,
  PegOffsetType: 836,
} as const;

export interface Refusal {
  /** OrdRejReason for a new order, CxlRejReason for a cancel or replace */
  reason: number;
  text: string;
}

/** What every order request echoes back on a report, as received. */
export interface Echo {
  clOrdId: string;
  symbol: string;
  side: string;
  ordType: string | null;
  orderQty: string | null;
}

export interface NewOrderRequest {
  kind: 'new';
  possDup: boolean;
  echo: Echo;
  /** Account (1) when sent: act for that account */
  account: string | null;
  symbol: string;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  qty: number;
  price?: number;
  stopPrice?: number;
  /** trailing_stop: the trail in cents, or in basis points of the high-water mark */
  trailPrice?: number;
  trailBps?: number;
  postOnly: boolean;
  refused?: Refusal;
}

export interface CancelRequest {
  kind: 'cancel';
  possDup: boolean;
  echo: Echo;
  origClOrdId: string;
  orderId: number | null;
  account: string | null;
}

export interface ReplaceRequest {
  kind: 'replace';
  possDup: boolean;
  echo: Echo;
  origClOrdId: string;
  orderId: number | null;
  account: string | null;
  type: OrderType | null;
  tif: TimeInForce | null;
  qty: number;
  price?: number;
  stopPrice?: number;
  /** trailing_stop: a new trail (absent: unchanged) */
  trailPrice?: number;
  trailBps?: number;
  refused?: Refusal;
}

export interface StatusRequest {
  kind: 'status';
  clOrdId: string;
  orderId: number | null;
  ordStatusReqId: string | null;
  account: string | null;
  symbol: string | null;
  side: string | null;
}

export type OrderRequest = NewOrderRequest | CancelRequest | ReplaceRequest | StatusRequest;

export interface SessionReject {
  kind: 'session_reject';
  refTagId?: number;
  reason: number;
  text: string;
}

export interface BusinessReject {
  kind: 'business_reject';
  reason: number;
  text: string;
}

export type Inbound = OrderRequest | SessionReject | BusinessReject;

const MSG_NAMES: Readonly<Record<string, string>> = {
  D: 'NewOrderSingle',
  F: 'OrderCancelRequest',
  G: 'OrderCancelReplaceRequest',
  H: 'OrderStatusRequest',
};

/** Printable ASCII, as the orders service accepts for client order ids. */
const ID = /^[!-~]{1,64}$/;
const SYMBOL = /^[A-Z][A-Z0-9_-]{0,15}$/;
const ORDER_ID = /^[1-9][0-9]{0,15}$/;

class Problem extends Error {
  constructor(readonly reject: SessionReject) {
    super(reject.text);
  }
}

function missing(tag: number, name: string, why: string): Problem {
  return new Problem({
    kind: 'session_reject',
    refTagId: tag,
    reason: SessionRejectReason.RequiredTagMissing,
    text: `${name} (${tag}) is required ${why}`,
  });
}

function badFormat(tag: number, name: string, why: string): Problem {
  return new Problem({
    kind: 'session_reject',
    refTagId: tag,
    reason: SessionRejectReason.IncorrectDataFormat,
    text: `${name} (${tag}): ${why}`,
  });
}

function required(v: TagReader, tag: number, name: string): string {
  const s = v.getString(tag);
  if (s === null || s === '') throw missing(tag, name, 'on this message');
  return s;
}

function id(v: TagReader, tag: number, name: string): string {
  const s = required(v, tag, name);
  if (!ID.test(s)) throw badFormat(tag, name, 'must be 1 to 64 printable ASCII characters without spaces');
  return s;
}

function optionalOrderId(v: TagReader): number | null {
  const s = v.getString(Tag.OrderID);
  if (s === null || s === '') return null;
  if (!ORDER_ID.test(s)) throw badFormat(Tag.OrderID, 'OrderID', `'${s}' is not an order id of Bourse`);
  return Number(s);
}

/**
 * A numeric tag: absent → undefined; not a number → Reject (35=3); a number Bourse does not take
 * (off the cent grid, fractional, out of range) → `refused`, for a report naming it.
 */
function number(
  v: TagReader,
  tag: number,
  name: string,
  parse: typeof parseQty,
  refusal: number,
): { value?: number; refused?: Refusal } {
  const s = v.getString(tag);
  if (s === null || s === '') return {};
  const p = parse(s);
  if (p.ok) return { value: p.value };
  if (p.malformed) throw badFormat(tag, name, p.reason);
  return { refused: { reason: refusal, text: `${name} (${tag}) ${p.reason}` } };
}

function echoOf(v: TagReader, clOrdId: string): Echo {
  return {
    clOrdId,
    symbol: v.getString(Tag.Symbol) ?? '',
    side: v.getString(Tag.Side) ?? '',
    ordType: v.getString(Tag.OrdType),
    orderQty: v.getString(Tag.OrderQty),
  };
}

/** Price (44) / StopPx (99) as the order type needs them: required where used, refused where not. */
function prices(v: TagReader, type: OrderType): { price?: number; stopPrice?: number; refused?: Refusal } {
  const price = number(v, Tag.Price, 'Price', parsePrice, OrdRejReason.Other);
  const stopPrice = number(v, Tag.StopPx, 'StopPx', parsePrice, OrdRejReason.Other);
  const needsPrice = type === 'limit' || type === 'stop_limit';
  const needsStop = type === 'stop' || type === 'stop_limit';
  if (needsPrice && price.value === undefined && !price.refused)
    throw missing(Tag.Price, 'Price', `for OrdType ${type}`);
  if (needsStop && stopPrice.value === undefined && !stopPrice.refused)
    throw missing(Tag.StopPx, 'StopPx', `for OrdType ${type}`);
  const out: { price?: number; stopPrice?: number; refused?: Refusal } = {};
  if (needsPrice) out.price = price.value;
  if (needsStop) out.stopPrice = stopPrice.value;
  out.refused = price.refused ?? stopPrice.refused;
  if (!needsPrice && (price.value !== undefined || price.refused))
    out.refused = unsupported(`Price (44) is not allowed on a ${type} order`);
  if (!needsStop && (stopPrice.value !== undefined || stopPrice.refused))
    out.refused = unsupported(
      type === 'trailing_stop'
        ? 'StopPx (99) is not supported on a trailing stop (OrdType P): an activation price can be set over REST only; reports carry the current stop in StopPx'
        : 'StopPx (99) is only allowed on stop and stop-limit orders',
    );
  return out;
}

/** A basis-point trail: a whole number, as the engine takes it (below 100%). */
const BPS = /^[0-9]{1,6}$/;
const MAX_TRAIL_BPS = 9_999;

/**
 * A trailing stop's trail: PegOffsetValue (211), a price (PegOffsetType 836 absent or 0) or basis
 * points of the high-water mark (836=1). Its magnitude: the side says which way the stop trails.
 * Required on a new order (`required`), optional on a replace (absent: the trail is unchanged).
 */
function trail(
  v: TagReader,
  required: boolean,
): { trailPrice?: number; trailBps?: number; refused?: Refusal } {
  const offsetType = v.getString(Tag.PegOffsetType);
  if (offsetType !== null && offsetType !== PegOffsetType.Price && offsetType !== PegOffsetType.BasisPoints)
    return {
      refused: unsupported(
        `PegOffsetType (836) ${offsetType} is not supported (supported: 0 price, 1 basis points)`,
      ),
    };
  const s = v.getString(Tag.PegOffsetValue);
  if (s === null || s === '') {
    if (required)
      throw missing(Tag.PegOffsetValue, 'PegOffsetValue', 'on a trailing stop (OrdType P): the trail');
    return {};
  }
  const positive = (why: string) => ({
    refused: unsupported(`PegOffsetValue (211) ${s}: ${why}`, OrdRejReason.Other),
  });
  if (offsetType === PegOffsetType.BasisPoints) {
    if (!BPS.test(s)) {
      if (/^-?[0-9]*\.?[0-9]+$/.test(s))
        return positive(`the trail in basis points must be a whole number from 1 to ${MAX_TRAIL_BPS}`);
      throw badFormat(Tag.PegOffsetValue, 'PegOffsetValue', `'${s}' is not a number of basis points`);
    }
    const bps = Number(s);
    if (bps < 1 || bps > MAX_TRAIL_BPS)
      return positive(`the trail in basis points must be a whole number from 1 to ${MAX_TRAIL_BPS}`);
    return { trailBps: bps };
  }
  if (/^-[0-9]*\.?[0-9]+$/.test(s) || /^0*\.?0*$/.test(s))
    return positive('the trail must be a positive price (the side says which way the stop trails)');
  const p = parsePrice(s);
  if (p.ok) return { trailPrice: p.value };
  if (p.malformed) throw badFormat(Tag.PegOffsetValue, 'PegOffsetValue', p.reason);
  return positive(p.reason);
}

/** ExecInst (18) as the order type allows it: 6 (post-only) on any, a (trailing stop peg) on P. */
function execInstRefusal(v: TagReader, type: OrderType | undefined): Refusal | undefined {
  const execInst = v.getString(Tag.ExecInst);
  const values = execInst?.split(' ') ?? [];
  const pegged = type === 'trailing_stop';
  if (pegged && !values.includes(TRAILING_STOP_EXEC_INST))
    return unsupported(
      `ExecInst (18) must include a (trailing stop peg) on OrdType P: the only pegged order Bourse has is a trailing stop`,
    );
  if (values.some((x) => x !== POST_ONLY_EXEC_INST && !(pegged && x === TRAILING_STOP_EXEC_INST)))
    return unsupported(
      `ExecInst (18) '${execInst}': only 6 (participate don't initiate: post-only), and a (trailing stop peg) with OrdType P, are supported`,
    );
  if (!pegged) {
    for (const [tag, name] of [
      [Tag.PegOffsetValue, 'PegOffsetValue'],
      [Tag.PegOffsetType, 'PegOffsetType'],
    ] as const) {
      if (v.getString(tag) !== null)
        return unsupported(`${name} (${tag}) is only allowed on a trailing stop (OrdType P, ExecInst a)`);
    }
  }
  return undefined;
}

function unsupported(text: string, reason: number = OrdRejReason.UnsupportedOrderCharacteristic): Refusal {
  return { reason, text };
}

/** The first order characteristic Bourse does not support, if any. */
function unsupportedTags(v: TagReader): Refusal | undefined {
  const currency = v.getString(Tag.Currency);
  if (currency !== null && currency !== 'USD')
    return unsupported(`Currency (15) ${currency}: Bourse trades in USD only`);
  for (const [tag, name] of [
    [Tag.MinQty, 'MinQty'],
    [Tag.MaxFloor, 'MaxFloor'],
    [Tag.ExpireTime, 'ExpireTime'],
    [Tag.ExpireDate, 'ExpireDate'],
  ] as const) {
    if (v.getString(tag) !== null) return unsupported(`${name} (${tag}) is not supported`);
  }
  return undefined;
}

function enumerated<T>(
  v: TagReader,
  tag: number,
  name: string,
  values: Readonly<Record<string, T>>,
  fallback?: T,
): { value?: T; refused?: Refusal } {
  const s = v.getString(tag);
  if (s === null || s === '') {
    if (fallback !== undefined) return { value: fallback };
    throw missing(tag, name, 'on this message');
  }
  const value = values[s];
  if (value !== undefined) return { value };
  return {
    refused: unsupported(
      `${name} (${tag}) ${s} is not supported (supported: ${Object.keys(values).join(', ')})`,
    ),
  };
}

function parseNew(v: TagReader, possDup: boolean): NewOrderRequest {
  const clOrdId = id(v, Tag.ClOrdID, 'ClOrdID');
  const symbol = required(v, Tag.Symbol, 'Symbol');
  const side = enumerated(v, Tag.Side, 'Side', SIDES);
  const type = enumerated(v, Tag.OrdType, 'OrdType', ORD_TYPES);
  const tif = enumerated(v, Tag.TimeInForce, 'TimeInForce', TIFS, 'day' as TimeInForce);
  const qty = number(v, Tag.OrderQty, 'OrderQty', parseQty, OrdRejReason.IncorrectQuantity);
  if (qty.value === undefined && !qty.refused) throw missing(Tag.OrderQty, 'OrderQty', 'on a new order');
  const p = type.value ? prices(v, type.value) : {};
  const t = type.value === 'trailing_stop' ? trail(v, true) : {};
  const execInst = v.getString(Tag.ExecInst);
  const request: NewOrderRequest = {
    kind: 'new',
    possDup,
    echo: echoOf(v, clOrdId),
    account: v.getString(Tag.Account),
    symbol,
    side: side.value ?? 'buy',
    type: type.value ?? 'limit',
    tif: tif.value ?? 'day',
    qty: qty.value ?? 0,
    postOnly: execInst?.split(' ').includes(POST_ONLY_EXEC_INST) === true,
  };
  if (p.price !== undefined) request.price = p.price;
  if (p.stopPrice !== undefined) request.stopPrice = p.stopPrice;
  if (t.trailPrice !== undefined) request.trailPrice = t.trailPrice;
  if (t.trailBps !== undefined) request.trailBps = t.trailBps;
  const refused =
    (SYMBOL.test(symbol)
      ? undefined
      : unsupported(`Symbol (55) '${symbol}' is not listed`, OrdRejReason.UnknownSymbol)) ??
    side.refused ??
    type.refused ??
    tif.refused ??
    qty.refused ??
    p.refused ??
    execInstRefusal(v, type.value) ??
    t.refused ??
    unsupportedTags(v);
  if (refused) request.refused = refused;
  return request;
}

function parseCancel(v: TagReader, possDup: boolean): CancelRequest {
  const clOrdId = id(v, Tag.ClOrdID, 'ClOrdID');
  return {
    kind: 'cancel',
    possDup,
    echo: echoOf(v, clOrdId),
    origClOrdId: id(v, Tag.OrigClOrdID, 'OrigClOrdID'),
    orderId: optionalOrderId(v),
    account: v.getString(Tag.Account),
  };
}

function parseReplace(v: TagReader, possDup: boolean): ReplaceRequest {
  const clOrdId = id(v, Tag.ClOrdID, 'ClOrdID');
  const qty = number(v, Tag.OrderQty, 'OrderQty', parseQty, CxlRejReason.BrokerOption);
  if (qty.value === undefined && !qty.refused)
    throw missing(Tag.OrderQty, 'OrderQty', 'on a replace (the new total quantity)');
  const type = enumerated(v, Tag.OrdType, 'OrdType', ORD_TYPES);
  const tif = v.getString(Tag.TimeInForce);
  const p = type.value ? prices(v, type.value) : {};
  const t = type.value === 'trailing_stop' ? trail(v, false) : {};
  const request: ReplaceRequest = {
    kind: 'replace',
    possDup,
    echo: echoOf(v, clOrdId),
    origClOrdId: id(v, Tag.OrigClOrdID, 'OrigClOrdID'),
    orderId: optionalOrderId(v),
    account: v.getString(Tag.Account),
    type: type.value ?? null,
    tif: tif === null ? null : (TIFS[tif] ?? null),
    qty: qty.value ?? 0,
  };
  if (p.price !== undefined) request.price = p.price;
  if (p.stopPrice !== undefined) request.stopPrice = p.stopPrice;
  if (t.trailPrice !== undefined) request.trailPrice = t.trailPrice;
  if (t.trailBps !== undefined) request.trailBps = t.trailBps;
  const refused =
    type.refused ??
    (tif !== null && TIFS[tif] === undefined
      ? unsupported(`TimeInForce (59) ${tif} is not supported`)
      : undefined) ??
    qty.refused ??
    p.refused ??
    execInstRefusal(v, type.value) ??
    t.refused ??
    unsupportedTags(v);
  if (refused) request.refused = { reason: CxlRejReason.BrokerOption, text: refused.text };
  return request;
}

function parseStatus(v: TagReader): StatusRequest {
  return {
    kind: 'status',
    clOrdId: id(v, Tag.ClOrdID, 'ClOrdID'),
    orderId: optionalOrderId(v),
    ordStatusReqId: v.getString(Tag.OrdStatusReqID),
    account: v.getString(Tag.Account),
    symbol: v.getString(Tag.Symbol),
    side: v.getString(Tag.Side),
  };
}

/** Reads one application message; never throws. */
export function parseInbound(msgType: string, v: TagReader): Inbound {
  const possDup = v.getString(Tag.PossDupFlag) === 'Y';
  try {
    switch (msgType) {
      case 'D':
        return parseNew(v, possDup);
      case 'F':
        return parseCancel(v, possDup);
      case 'G':
        return parseReplace(v, possDup);
      case 'H':
        return parseStatus(v);
      default:
        return {
          kind: 'business_reject',
          reason: BusinessRejectReason.UnsupportedMessageType,
          text: `MsgType ${msgType} is not supported here: Bourse takes ${Object.entries(MSG_NAMES)
            .map(([t, n]) => `${n} (${t})`)
            .join(', ')}`,
        };
    }
  } catch (err) {
    if (err instanceof Problem) return err.reject;
    throw err;
  }
}

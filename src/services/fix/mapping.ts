/**
 * FIX 4.4 values ↔ the orders service's model: the one place that says which FIX order
 * characteristics Bourse supports and what every outcome is called on the wire. Values FIX
 * defines but Bourse does not support are refused with OrdRejReason 11 (unsupported order
 * characteristic) and a text naming the value.
 *
 * Order classes: a trailing stop is OrdType=P (pegged) with ExecInst=a (trailing stop peg) and
 * its trail in PegOffsetValue (211): a price, or basis points with PegOffsetType (836) 1. Linked
 * orders (bracket, OCO, OTO) would need a NewOrderList (35=E) with ContingencyType (1385), which
 * FIX 4.4 does not have: they are REST-only, and FIX reports their legs (a held leg is Pending New).
 */
import type {
  CancelReason,
  OrderStatus,
  OrderType,
  RejectReason,
  Side,
  TimeInForce,
} from '../orders/client.ts';

export const SIDES: Readonly<Record<string, Side>> = { '1': 'buy', '2': 'sell' };
export const SIDE_CODE: Readonly<Record<Side, string>> = { buy: '1', sell: '2' };

export const ORD_TYPES: Readonly<Record<string, OrderType>> = {
  '1': 'market',
  '2': 'limit',
  '3': 'stop',
  '4': 'stop_limit',
  // Pegged: with ExecInst a, a trailing stop (the only peg Bourse has)
  P: 'trailing_stop',
};
export const ORD_TYPE_CODE: Readonly<Record<OrderType, string>> = {
  market: '1',
  limit: '2',
  stop: '3',
  stop_limit: '4',
  trailing_stop: 'P',
};

/** TimeInForce (59); absent means Day. */
export const TIFS: Readonly<Record<string, TimeInForce>> = { '0': 'day', '1': 'gtc', '3': 'ioc', '4': 'fok' };
export const TIF_CODE: Readonly<Record<TimeInForce, string>> = { day: '0', gtc: '1', ioc: '3', fok: '4' };

/** ExecInst (18) value for a post-only order: participate, don't initiate. */
export const POST_ONLY_EXEC_INST = '6';
/** ExecInst (18) value that makes a pegged order (OrdType P) a trailing stop. */
export const TRAILING_STOP_EXEC_INST = 'a';

/** PegOffsetType (836) of a trailing stop's PegOffsetValue (211); absent means a price. */
export const PegOffsetType = { Price: '0', BasisPoints: '1' } as const;

/** ExecRestatementReason (378) of an unsolicited report of a trailing stop's new stop price. */
export const RESTATED_REPRICING = 3;

/** ExecType (150). */
export const ExecType = {
  New: '0',
  Canceled: '4',
  Replaced: '5',
  PendingNew: 'A',
  Restated: 'D',
  Rejected: '8',
  Expired: 'C',
  Trade: 'F',
  OrderStatus: 'I',
  Triggered: 'L',
} as const;

/** OrdStatus (39) of an order as the orders service reports it. */
export const ORD_STATUS_CODE: Readonly<Record<OrderStatus, string>> = {
  // Pending New: a bracket's exit leg held until its entry fills
  held: 'A',
  new: '0',
  partially_filled: '1',
  filled: '2',
  canceled: '4',
  expired: 'C',
  rejected: '8',
};

/** OrdRejReason (103), FIX 4.4. */
export const OrdRejReason = {
  BrokerOption: 0,
  UnknownSymbol: 1,
  ExchangeClosed: 2,
  OrderExceedsLimit: 3,
  UnknownOrder: 5,
  DuplicateOrder: 6,
  UnsupportedOrderCharacteristic: 11,
  IncorrectQuantity: 13,
  UnknownAccount: 15,
  Other: 99,
} as const;

/** CxlRejReason (102), FIX 4.4. */
export const CxlRejReason = {
  TooLateToCancel: 0,
  UnknownOrder: 1,
  BrokerOption: 2,
  AlreadyPending: 3,
  DuplicateClOrdId: 6,
  Other: 99,
} as const;

/** CxlRejResponseTo (434). */
export const CxlRejResponseTo = { Cancel: '1', Replace: '2' } as const;

/** SessionRejectReason (373). */
export const SessionRejectReason = {
  RequiredTagMissing: 1,
  ValueIsIncorrect: 5,
  IncorrectDataFormat: 6,
  CompIdProblem: 9,
  Other: 99,
} as const;

/** BusinessRejectReason (380). */
export const BusinessRejectReason = {
  Other: 0,
  UnsupportedMessageType: 3,
  ApplicationNotAvailable: 4,
} as const;

/** LastLiquidityInd (851): 1 added liquidity (maker), 2 removed it (taker). */
export const LIQUIDITY_CODE = { maker: 1, taker: 2 } as const;

/** CommType (13) of the fee on a fill: absolute (in dollars). */
export const COMM_TYPE_ABSOLUTE = '3';

/** The engine's verdict on a new order, as OrdRejReason. */
export function ordRejReasonOf(reason: RejectReason | string | undefined): number {
  switch (reason) {
    case 'unknown_symbol':
      return OrdRejReason.UnknownSymbol;
    case 'unknown_account':
      return OrdRejReason.UnknownAccount;
    case 'market_closed':
    case 'not_allowed_pre_open':
      return OrdRejReason.ExchangeClosed;
    case 'insufficient_funds':
    case 'insufficient_shares':
      return OrdRejReason.OrderExceedsLimit;
    case 'invalid_quantity':
    case 'off_lot':
    case 'below_min_qty':
    case 'above_max_qty':
      return OrdRejReason.IncorrectQuantity;
    case 'symbol_halted':
    case 'market_halted':
      return OrdRejReason.BrokerOption;
    default:
      return OrdRejReason.Other;
  }
}

/** Why the exchange cancelled an order nobody on this session asked to cancel. */
export const CANCEL_TEXT: Readonly<Record<CancelReason, string>> = {
  user: 'canceled by the account owner (another channel)',
  ioc_remainder: 'unfilled remainder of an IOC or market order canceled',
  collar: 'canceled: would have traded outside the price collar',
  no_liquidity: 'canceled: no liquidity left to trade against',
  self_trade: 'canceled by self-trade prevention',
  halted: 'canceled by the exchange (halt)',
  oco: 'canceled: the other leg of its one-cancels-other pair filled or was canceled',
  parent: 'canceled: its entry order was canceled before any fill',
};

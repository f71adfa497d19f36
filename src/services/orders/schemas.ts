/**
 * JSON schemas of the internal API, used twice: by Fastify on every route (body, params,
 * querystring, headers, response) and by the in-process client's handlers, so that both doors
 * refuse the same inputs before anything reaches the sequencer.
 *
 * Bodies are validated strictly: no type coercion ("5" is not 5) and no unknown properties
 * (a misspelt `stop_price` must fail loudly, not be dropped and turn a stop into a market order).
 * Path and query parameters are strings on the wire, so there numbers are coerced.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { type FieldError, fieldError, invalidRequest } from './problems.ts';

// Bounds mirror the engine's (src/engine/arith.ts): beyond them products leave the exact range.
const MAX_PRICE = 10_000_000_000;
const MAX_QTY = 1_000_000_000;
const MAX_AMOUNT = 900_000_000_000_000; // cents: keeps sums of balances far inside 2^53
const MAX_ID = Number.MAX_SAFE_INTEGER;

export const ACCOUNT_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
export const SYMBOL_PATTERN = '^[A-Z][A-Z0-9_-]{0,15}$';
/** printable ASCII without spaces */
const CLIENT_ID_PATTERN = '^[!-~]{1,64}$';

const account = { type: 'string', pattern: ACCOUNT_PATTERN } as const;
const symbol = { type: 'string', pattern: SYMBOL_PATTERN } as const;
const clientId = { type: 'string', pattern: CLIENT_ID_PATTERN } as const;
const price = { type: 'integer', minimum: 1, maximum: MAX_PRICE } as const;
const qty = { type: 'integer', minimum: 1, maximum: MAX_QTY } as const;
const cents = { type: 'integer', minimum: 0, maximum: MAX_AMOUNT } as const;
const id = { type: 'integer', minimum: 1, maximum: MAX_ID } as const;
const int = { type: 'integer' } as const;
const bps = { type: 'integer', minimum: 0, maximum: 100_000 } as const;
const side = { type: 'string', enum: ['buy', 'sell'] } as const;
const orderType = {
  type: 'string',
  enum: ['market', 'limit', 'stop', 'stop_limit', 'trailing_stop'],
} as const;
const orderClass = { type: 'string', enum: ['simple', 'bracket', 'oco', 'oto'] } as const;
/** a trailing stop's trail in basis points of the high-water mark, below 100% */
const trailBps = { type: 'integer', minimum: 1, maximum: 9_999 } as const;
const takeProfit = {
  type: 'object',
  additionalProperties: false,
  required: ['price'],
  properties: { price },
} as const;
/** a stop (stopPrice), a stop-limit (stopPrice, price) or a trailing stop (trailPrice or trailBps) */
const stopLoss = {
  type: 'object',
  additionalProperties: false,
  properties: { stopPrice: price, price, trailPrice: price, trailBps },
  oneOf: [
    { required: ['stopPrice'], properties: { trailPrice: false, trailBps: false } },
    { required: ['trailPrice'], properties: { stopPrice: false, price: false, trailBps: false } },
    { required: ['trailBps'], properties: { stopPrice: false, price: false, trailPrice: false } },
  ],
} as const;
const tif = { type: 'string', enum: ['day', 'gtc', 'ioc', 'fok'] } as const;
const sessionState = { type: 'string', enum: ['pre_open', 'open', 'closed'] } as const;
const stp = { type: 'string', enum: ['cancel_resting', 'cancel_incoming', 'cancel_both', 'allow'] } as const;
const nullableString = { type: ['string', 'null'] } as const;

// ---------------------------------------------------------------------------------------------
// Requests

export const newOrderBody = {
  type: 'object',
  additionalProperties: false,
  required: ['symbol', 'side', 'type', 'qty'],
  properties: {
    symbol,
    side,
    type: orderType,
    tif,
    qty,
    price,
    stopPrice: price,
    postOnly: { type: 'boolean' },
    clientOrderId: clientId,
    selfTradePrevention: stp,
    trailPrice: price,
    trailBps,
    activationPrice: price,
    orderClass,
    takeProfit,
    stopLoss,
  },
  allOf: [
    {
      if: { type: 'object', properties: { type: { enum: ['limit', 'stop_limit'] } } },
      // biome-ignore lint/suspicious/noThenProperty: a JSON Schema keyword, never awaited
      then: { required: ['price'] },
      else: { properties: { price: false } },
    },
    {
      if: { type: 'object', properties: { type: { enum: ['stop', 'stop_limit'] } } },
      // biome-ignore lint/suspicious/noThenProperty: a JSON Schema keyword, never awaited
      then: { required: ['stopPrice'] },
      else: { properties: { stopPrice: false } },
    },
    {
      if: { type: 'object', properties: { type: { const: 'trailing_stop' } } },
      // biome-ignore lint/suspicious/noThenProperty: a JSON Schema keyword, never awaited
      then: { oneOf: [{ required: ['trailPrice'] }, { required: ['trailBps'] }] },
      else: { properties: { trailPrice: false, trailBps: false, activationPrice: false } },
    },
  ],
} as const;

export const replaceBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { qty, price, stopPrice: price, trailPrice: price, trailBps },
} as const;

export const cashBody = {
  type: 'object',
  additionalProperties: false,
  required: ['amount'],
  properties: { amount: { type: 'integer', minimum: 1, maximum: MAX_AMOUNT } },
} as const;

export const shareTransferBody = {
  type: 'object',
  additionalProperties: false,
  required: ['symbol', 'qty'],
  properties: {
    symbol,
    qty: { type: 'integer', minimum: -MAX_QTY, maximum: MAX_QTY, not: { const: 0 } },
    cost: cents,
  },
} as const;

const feeSchedule = {
  type: 'object',
  additionalProperties: false,
  required: ['makerBps', 'takerBps'],
  properties: { makerBps: bps, takerBps: bps },
} as const;

export const instrumentBody = {
  type: 'object',
  additionalProperties: false,
  required: [
    'symbol',
    'tickSize',
    'lotSize',
    'minQty',
    'maxQty',
    'priceBandBps',
    'collarBps',
    'referencePrice',
  ],
  properties: {
    symbol,
    tickSize: price,
    lotSize: qty,
    minQty: qty,
    maxQty: qty,
    priceBandBps: bps,
    collarBps: bps,
    referencePrice: price,
    fees: feeSchedule,
  },
} as const;

export const haltBody = {
  type: 'object',
  additionalProperties: false,
  required: ['symbol', 'halted'],
  properties: { symbol: { anyOf: [symbol, { type: 'null' }] }, halted: { type: 'boolean' } },
} as const;

export const sessionBody = {
  type: 'object',
  additionalProperties: false,
  required: ['state'],
  properties: { state: sessionState },
} as const;

export const idempotencyHeaders = {
  type: 'object',
  properties: { 'idempotency-key': clientId },
} as const;

export const accountParams = {
  type: 'object',
  additionalProperties: false,
  required: ['account'],
  properties: { account },
} as const;

export const orderParams = {
  type: 'object',
  additionalProperties: false,
  required: ['account', 'id'],
  properties: { account, id },
} as const;

export const clientOrderParams = {
  type: 'object',
  additionalProperties: false,
  required: ['account', 'clientOrderId'],
  properties: { account, clientOrderId: clientId },
} as const;

export const symbolParams = {
  type: 'object',
  additionalProperties: false,
  required: ['symbol'],
  properties: { symbol },
} as const;

const limit = { type: 'integer', minimum: 1, maximum: 500 } as const;
/** keyset cursors: an id, or "<ts>.<id>" where the order is by time */
const idCursor = { type: 'string', pattern: '^[1-9][0-9]{0,15}$' } as const;
const timeCursor = { type: 'string', pattern: '^[0-9]{1,16}\\.[1-9][0-9]{0,15}$' } as const;

export const listOrdersQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['open', 'closed', 'all'] },
    symbol,
    limit,
    cursor: idCursor,
  },
} as const;

export const accountTradesQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { symbol, limit, cursor: idCursor },
} as const;

export const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit, cursor: idCursor },
} as const;

export const symbolTradesQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit, cursor: timeCursor },
} as const;

export const depthQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { levels: { type: 'integer', minimum: 1, maximum: 1000 } },
} as const;

export const emptyQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

// ---------------------------------------------------------------------------------------------
// Responses (Fastify serialises with them, so they also keep internal fields from leaking)

const obj = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});

const orderFields = {
  id: int,
  account: { type: 'string' },
  clientOrderId: nullableString,
  symbol: { type: 'string' },
  side: { type: 'string' },
  orderType: { type: 'string' },
  tif: { type: 'string' },
  qty: int,
  filledQty: int,
  price: int,
  stopPrice: int,
  postOnly: { type: 'boolean' },
  status: { type: 'string' },
  triggered: { type: 'boolean' },
  filledNotional: int,
  fees: int,
  createdAt: int,
  updatedAt: int,
  rejectReason: nullableString,
  cancelReason: nullableString,
};
/** present only when they apply: a plain order's response is what it always was */
const classFields = {
  orderClass: { type: 'string' },
  parentId: int,
  trailPrice: int,
  trailBps: int,
  hwm: int,
  activationPrice: int,
};
const legResponse = obj({ ...orderFields, ...classFields }, Object.keys(orderFields));
export const orderResponse = obj(
  { ...orderFields, ...classFields, legs: { type: 'array', items: legResponse } },
  Object.keys(orderFields),
);

export const orderResultResponse = obj({ order: orderResponse, replayed: { type: 'boolean' } });

const page = (item: unknown) => obj({ items: { type: 'array', items: item }, nextCursor: nullableString });

export const ordersPageResponse = page(orderResponse);

export const executionResponse = obj({
  tradeId: int,
  orderId: int,
  symbol: { type: 'string' },
  side: { type: 'string' },
  price: int,
  qty: int,
  fee: int,
  liquidity: { type: 'string' },
  ts: int,
});
export const executionsPageResponse = page(executionResponse);

export const publicTradeResponse = obj({
  tradeId: int,
  symbol: { type: 'string' },
  price: int,
  qty: int,
  aggressor: { type: 'string' },
  ts: int,
});
export const publicTradesPageResponse = page(publicTradeResponse);

export const balanceResponse = obj({ account: { type: 'string' }, cash: int, reserved: int, available: int });

export const positionResponse = obj({
  account: { type: 'string' },
  symbol: { type: 'string' },
  qty: int,
  reserved: int,
  available: int,
  cost: int,
});
export const positionsResponse = { type: 'array', items: positionResponse } as const;

export const cashResultResponse = obj({ seq: int, replayed: { type: 'boolean' }, balance: balanceResponse });
export const shareTransferResultResponse = obj({
  seq: int,
  replayed: { type: 'boolean' },
  position: positionResponse,
});

export const cashMovementResponse = obj({ seq: int, ts: int, kind: { type: 'string' }, amount: int });
export const cashMovementsPageResponse = page(cashMovementResponse);

export const instrumentResponse = obj(
  {
    symbol: { type: 'string' },
    tickSize: int,
    lotSize: int,
    minQty: int,
    maxQty: int,
    priceBandBps: int,
    collarBps: int,
    referencePrice: int,
    fees: obj({ makerBps: int, takerBps: int }),
    halted: { type: 'boolean' },
    lastTradePrice: { type: ['integer', 'null'] },
  },
  [
    'symbol',
    'tickSize',
    'lotSize',
    'minQty',
    'maxQty',
    'priceBandBps',
    'collarBps',
    'referencePrice',
    'halted',
    'lastTradePrice',
  ],
);
export const instrumentsResponse = { type: 'array', items: instrumentResponse } as const;

export const exchangeStatusResponse = obj({
  session: { type: 'string' },
  marketHalted: { type: 'boolean' },
  lastSeq: int,
});

const nullableInt = { type: ['integer', 'null'] } as const;
export const storageStatusResponse = obj({
  journal: obj({
    bytes: int,
    firstSeq: nullableInt,
    rows: int,
    archivedSeq: int,
    archiveDir: { type: 'string' },
  }),
  snapshots: obj({
    bytes: int,
    count: int,
    lastSeq: nullableInt,
    lastTakenAt: nullableString,
    lastAgeMs: nullableInt,
  }),
  seqs: obj({ committed: int, projected: int, published: int }),
  lag: obj({ projection: int, outbox: int }),
  lastBackup: {
    anyOf: [
      { type: 'null' },
      obj({ takenAt: { type: 'string' }, journalSeq: int, bytes: int, file: { type: 'string' } }),
    ],
  },
});

const level = obj({ price: int, qty: int, orders: int });
export const depthResponse = obj({
  symbol: { type: 'string' },
  bids: { type: 'array', items: level },
  asks: { type: 'array', items: level },
  seq: int,
});

export const problemResponse = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    reason: { type: 'string' },
    orderId: { type: 'integer' },
    retriable: { type: 'boolean' },
    errors: {
      type: 'array',
      items: obj({
        in: { type: 'string' },
        field: { type: 'string' },
        pointer: { type: 'string' },
        detail: { type: 'string' },
      }),
    },
  },
} as const;

// ---------------------------------------------------------------------------------------------
// Validators

/** Bodies: exact types, unknown properties refused. */
export const bodyAjv = new Ajv({
  allErrors: true,
  coerceTypes: false,
  removeAdditional: false,
  useDefaults: false,
});
/** Path, query, headers: strings on the wire, coerced to the schema's type. */
export const paramsAjv = new Ajv({
  allErrors: true,
  coerceTypes: true,
  removeAdditional: false,
  useDefaults: false,
});

export function fieldErrors(where: string, errors: ErrorObject[] | null | undefined): FieldError[] {
  return (errors ?? [])
    .filter((e) => e.keyword !== 'if') // the branch that failed says more than "must match then"
    .map((e) => {
      const path = e.instancePath
        .split('/')
        .slice(1)
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
      let detail = e.message ?? 'is invalid';
      if (e.keyword === 'required') path.push((e.params as { missingProperty: string }).missingProperty);
      if (e.keyword === 'additionalProperties') {
        path.push((e.params as { additionalProperty: string }).additionalProperty.slice(0, 64));
        detail = 'is not allowed';
      }
      if (e.keyword === 'false schema') detail = 'is not allowed for this order type';
      return fieldError(where, path.join('.'), detail);
    });
}

/** Compile once; throws the 400 problem on failure (the in-process doors use these). */
function check(schema: object, where = 'body', ajv: Ajv = bodyAjv): <R = unknown>(value: unknown) => R {
  const validate: ValidateFunction = ajv.compile(schema);
  return <R>(value: unknown): R => {
    if (!validate(value)) throw invalidRequest(fieldErrors(where, validate.errors));
    return value as R;
  };
}

export const validators = {
  newOrder: check(newOrderBody),
  replace: check(replaceBody),
  cash: check(cashBody),
  shareTransfer: check(shareTransferBody),
  instrument: check(instrumentBody),
  halt: check(haltBody),
  session: check(sessionBody),
  account: check(account, 'params'),
  symbol: check(symbol, 'params'),
  orderId: check(id, 'params'),
  clientOrderId: check(clientId, 'params'),
  idempotencyKey: check(clientId, 'headers'),
  listOrders: check(listOrdersQuery, 'querystring'),
  accountTrades: check(accountTradesQuery, 'querystring'),
  page: check(pageQuery, 'querystring'),
  symbolTrades: check(symbolTradesQuery, 'querystring'),
  levels: check(depthQuery.properties.levels, 'querystring'),
};

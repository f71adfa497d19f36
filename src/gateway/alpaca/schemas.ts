/**
 * JSON schemas of the public API in Alpaca's shapes: Fastify validates every request with them
 * (strictly: no coercion of bodies, no unknown fields) and @fastify/swagger builds the OpenAPI
 * document from them, examples included. Decimal strings are checked for form here; their
 * conversion to cents and shares (decimal.ts) refuses what the schema cannot express.
 */

import { problemSchema } from '../../platform/http/problem.ts';

const TS = '2026-01-15T14:30:00.000Z';
const ORDER_ID = 'b0a5e000-0000-4000-8000-0000000004d2';
const ASSET_ID = '3b7e2c55-9a1f-5d40-8b2e-6c1d0f4a9e21';
const ACCOUNT_ID = '6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f';

export const SYMBOL_PATTERN = '^[A-Z][A-Z0-9_-]{0,15}$';
/** printable ASCII without spaces, as the orders service stores it */
export const CLIENT_ORDER_ID_PATTERN = '^[!-~]{1,64}$';

const decimal = (description: string, example: string) => ({
  description,
  anyOf: [
    { type: 'string', maxLength: 32 },
    { type: 'number', minimum: 0 },
  ],
  examples: [example],
});
const nullableDecimal = (description: string, example: string) => ({
  ...decimal(description, example),
  anyOf: [...decimal(description, example).anyOf, { type: 'null' }],
});
const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });
const str = (description: string, example?: string) => ({
  type: 'string',
  description,
  ...(example !== undefined && { examples: [example] }),
});
const nstr = (description: string, example?: string | null) => ({
  type: ['string', 'null'],
  description,
  ...(example !== undefined && { examples: [example] }),
});

export const side = { type: 'string', enum: ['buy', 'sell'] } as const;
export const orderType = {
  type: 'string',
  enum: ['market', 'limit', 'stop', 'stop_limit', 'trailing_stop'],
} as const;
export const orderClass = { type: 'string', enum: ['simple', 'bracket', 'oco', 'oto'] } as const;
export const timeInForce = { type: 'string', enum: ['day', 'gtc', 'ioc', 'fok'] } as const;
const symbol = { type: 'string', pattern: SYMBOL_PATTERN, description: 'Ticker symbol', examples: ['AAPL'] };

/** Where a broker or an admin names the account they act for (default: their own). */
export const ACCOUNT_QUERY = {
  account_id: {
    type: 'string',
    format: 'uuid',
    description:
      'Bourse extension: the account (user id) a broker or admin acts for. A broker may name only ' +
      "their brokerage's clients. Also accepted as the Bourse-Account-Id header.",
  },
} as const;

const query = (properties: Record<string, unknown>) => ({
  type: 'object',
  additionalProperties: false,
  properties: { ...properties, ...ACCOUNT_QUERY },
});
export const actingQuery = query({});

// ---------------------------------------------------------------------------------------------
// Requests

export const newOrderBody = {
  type: 'object',
  additionalProperties: false,
  required: ['symbol', 'qty', 'side', 'type', 'time_in_force'],
  properties: {
    symbol,
    qty: decimal('Whole shares, as a string or number', '10'),
    side,
    type: orderType,
    time_in_force: timeInForce,
    limit_price: nullableDecimal('Required for limit and stop_limit; whole cents', '187.25'),
    stop_price: nullableDecimal('Required for stop and stop_limit; whole cents', '180.00'),
    client_order_id: {
      ...nullable({ type: 'string', pattern: CLIENT_ORDER_ID_PATTERN }),
      description:
        'Unique per account, ≤ 64 printable characters; generated when absent. Resubmitting it returns ' +
        'the original order, so such a request is safe to retry.',
      examples: ['my-order-0001'],
    },
    extended_hours: {
      type: ['boolean', 'null'],
      description: 'Accepted and ignored (one continuous session)',
    },
    order_class: {
      type: ['string', 'null'],
      enum: ['simple', 'bracket', 'oco', 'oto', '', null],
      description:
        'bracket: entry (market or limit) + take_profit + stop_loss, the exits held until the entry fills; ' +
        'oto: entry + one of them; oco: type limit with take_profit.limit_price and stop_loss, both working',
    },
    notional: { type: 'null', description: 'Not supported: dollar-amount orders need fractional shares' },
    trail_price: nullableDecimal(
      'trailing_stop: the trail in dollars (one of trail_price, trail_percent)',
      '2.50',
    ),
    trail_percent: nullableDecimal('trailing_stop: the trail in percent of the high-water mark', '1.5'),
    activation_price: nullableDecimal(
      'Bourse extension (Alpaca-API#154), trailing_stop: it starts trailing when the last price reaches this',
      '190.00',
    ),
    take_profit: nullable({
      type: 'object',
      additionalProperties: false,
      required: ['limit_price'],
      properties: { limit_price: decimal('Take-profit limit price', '195.00') },
    }),
    stop_loss: nullable({
      type: 'object',
      additionalProperties: false,
      properties: {
        stop_price: decimal('Stop price (a stop, or with limit_price a stop-limit)', '180.00'),
        limit_price: decimal('Limit price of a stop-limit stop-loss', '179.50'),
        trail_price: decimal(
          'Bourse extension (Alpaca-API#233): a trailing stop-loss, trail in dollars',
          '2.50',
        ),
        trail_percent: decimal(
          'Bourse extension (Alpaca-API#233): a trailing stop-loss, trail in percent',
          '1.5',
        ),
      },
    }),
    position_intent: {
      type: ['string', 'null'],
      enum: ['buy_to_open', 'buy_to_close', 'sell_to_open', 'sell_to_close', null],
    },
  },
  examples: [
    { symbol: 'AAPL', qty: '10', side: 'buy', type: 'limit', time_in_force: 'day', limit_price: '187.25' },
  ],
} as const;

export const replaceOrderBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    qty: decimal('New total quantity (filled shares included)', '20'),
    limit_price: decimal('New limit price', '186.50'),
    stop_price: decimal('New stop price', '179.00'),
    time_in_force: {
      ...timeInForce,
      description: 'Must equal the current one: Bourse does not change an order’s time in force',
    },
    client_order_id: nullable({ type: 'string', pattern: CLIENT_ORDER_ID_PATTERN }),
    trail: decimal('trailing_stop: the new trail, in the unit the order has (dollars or percent)', '3.00'),
  },
  examples: [{ qty: '20', limit_price: '186.50' }],
} as const;

export const orderIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['order_id'],
  properties: { order_id: { type: 'string', format: 'uuid', description: 'Order id', examples: [ORDER_ID] } },
} as const;

export const symbolParams = {
  type: 'object',
  additionalProperties: false,
  required: ['symbol'],
  properties: { symbol },
} as const;

export const assetParams = {
  type: 'object',
  additionalProperties: false,
  required: ['symbol_or_asset_id'],
  properties: {
    symbol_or_asset_id: {
      type: 'string',
      maxLength: 64,
      description: 'Symbol or asset id',
      examples: ['AAPL'],
    },
  },
} as const;

export const listOrdersQuery = query({
  status: { type: 'string', enum: ['open', 'closed', 'all'], default: 'open' },
  limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  after: { type: 'string', format: 'date-time', description: 'Only orders submitted after this time' },
  until: { type: 'string', format: 'date-time', description: 'Only orders submitted until this time' },
  direction: { type: 'string', enum: ['asc', 'desc'], default: 'desc' },
  nested: { type: 'boolean', description: 'Accepted; an entry always carries its legs' },
  symbols: {
    type: 'string',
    maxLength: 2000,
    description: 'Comma-separated symbols',
    examples: ['AAPL,MSFT'],
  },
  side: side,
});

export const byClientOrderIdQuery = {
  ...query({ client_order_id: { type: 'string', pattern: CLIENT_ORDER_ID_PATTERN } }),
  required: ['client_order_id'],
};

export const closePositionQuery = query({
  qty: {
    type: 'string',
    maxLength: 32,
    description: 'Shares to sell (default: all available)',
    examples: ['5'],
  },
  percentage: {
    type: 'string',
    maxLength: 32,
    description: 'Percentage of the available shares to sell (rounded down to whole shares)',
    examples: ['50'],
  },
});

export const assetsQuery = query({
  status: { type: 'string', enum: ['active', 'inactive'] },
  asset_class: { type: 'string', enum: ['us_equity'] },
  exchange: { type: 'string', maxLength: 16 },
  attributes: { type: 'string', maxLength: 200 },
});

export const ACTIVITY_TYPES = ['FILL', 'CSD', 'CSW'] as const;

export const activitiesQuery = query({
  activity_types: { type: 'string', maxLength: 200, description: 'Comma-separated: FILL, CSD, CSW' },
  activity_type: { type: 'string', enum: ACTIVITY_TYPES },
  date: { type: 'string', format: 'date' },
  until: { type: 'string', format: 'date-time' },
  after: { type: 'string', format: 'date-time' },
  direction: { type: 'string', enum: ['asc', 'desc'], default: 'desc' },
  page_size: { type: 'integer', minimum: 1, maximum: 100, default: 100 },
  page_token: { type: 'string', maxLength: 128 },
});

export const activityTypeParams = {
  type: 'object',
  additionalProperties: false,
  required: ['activity_type'],
  properties: { activity_type: { type: 'string', enum: ACTIVITY_TYPES } },
} as const;

export const marketDataQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['symbols'],
  properties: {
    symbols: {
      type: 'string',
      minLength: 1,
      maxLength: 1000,
      description: 'Comma-separated symbols, at most 50',
      examples: ['AAPL,MSFT'],
    },
    depth: { type: 'integer', minimum: 1, maximum: 10, default: 5, description: 'Book levels per side' },
  },
} as const;

// ---------------------------------------------------------------------------------------------
// Responses

const obj = (properties: Record<string, unknown>, example?: unknown) => ({
  type: 'object',
  properties,
  ...(example !== undefined && { examples: [example] }),
});

export const orderExample = {
  id: ORDER_ID,
  client_order_id: 'my-order-0001',
  created_at: TS,
  updated_at: TS,
  submitted_at: TS,
  filled_at: null,
  expired_at: null,
  canceled_at: null,
  failed_at: null,
  replaced_at: null,
  replaced_by: null,
  replaces: null,
  asset_id: ASSET_ID,
  symbol: 'AAPL',
  asset_class: 'us_equity',
  notional: null,
  qty: '10',
  filled_qty: '0',
  filled_avg_price: null,
  order_class: 'simple',
  order_type: 'limit',
  type: 'limit',
  side: 'buy',
  time_in_force: 'day',
  limit_price: '187.25',
  stop_price: null,
  status: 'new',
  extended_hours: false,
  legs: null,
  trail_percent: null,
  trail_price: null,
  hwm: null,
  activation_price: null,
};

const orderProperties = {
  id: str('Order id (UUID)'),
  client_order_id: str('Client order id'),
  created_at: str('RFC 3339 time'),
  updated_at: str('RFC 3339 time'),
  submitted_at: str('RFC 3339 time'),
  filled_at: nstr('When fully filled'),
  expired_at: nstr('When expired'),
  canceled_at: nstr('When canceled'),
  failed_at: nstr('When rejected'),
  replaced_at: nstr('Always null: a replace keeps the order id'),
  replaced_by: nstr('Always null'),
  replaces: nstr('Always null'),
  asset_id: str('Asset id'),
  symbol: str('Symbol'),
  asset_class: str('us_equity'),
  notional: { type: 'null' },
  qty: str('Ordered shares'),
  filled_qty: str('Filled shares'),
  filled_avg_price: nstr('Average fill price'),
  order_class: str('simple, bracket, oco or oto (legs carry their entry’s)'),
  order_type: str('Same as type'),
  type: orderType,
  side,
  time_in_force: timeInForce,
  limit_price: nstr('Limit price'),
  stop_price: nstr('Stop price'),
  status: {
    type: 'string',
    enum: ['held', 'new', 'partially_filled', 'filled', 'canceled', 'expired', 'rejected'],
  },
  extended_hours: { type: 'boolean' },
  trail_percent: nstr('trailing_stop: the trail in percent'),
  trail_price: nstr('trailing_stop: the trail in dollars'),
  hwm: nstr('trailing_stop: the high-water mark (null until it tracks)'),
  activation_price: nstr('Bourse extension, trailing_stop: the price it starts trailing at'),
};
const legOrder = obj({ ...orderProperties, legs: { type: 'null' } }, orderExample);
export const order = obj(
  {
    ...orderProperties,
    legs: {
      anyOf: [{ type: 'array', items: legOrder }, { type: 'null' }],
      description: 'An entry’s legs: take-profit first, then stop-loss (an oco: its stop-loss)',
    },
  },
  orderExample,
);

export const orders = { type: 'array', items: order };

export const cancelAllResponse = {
  type: 'array',
  items: obj({
    id: str('Order id'),
    status: { type: 'integer', description: 'HTTP status of this cancel' },
    body: { type: 'object', additionalProperties: true },
  }),
};

export const account = obj(
  {
    id: str('Account id (the user id)'),
    account_number: str('Account number'),
    status: str('ACTIVE'),
    currency: str('USD'),
    cash: str('Cash balance'),
    buying_power: str('Cash not reserved by open buy orders'),
    regt_buying_power: str('Same as buying_power (cash account)'),
    daytrading_buying_power: str('Same as buying_power (cash account)'),
    effective_buying_power: str('Same as buying_power'),
    non_marginable_buying_power: str('Same as buying_power'),
    portfolio_value: str('Same as equity'),
    equity: str('cash + long_market_value'),
    last_equity: str('Equity at the reference (previous close) prices'),
    long_market_value: str('Market value of the positions'),
    short_market_value: str('Always 0: no short selling'),
    position_market_value: str('Market value of the positions'),
    initial_margin: str('0'),
    maintenance_margin: str('0'),
    last_maintenance_margin: str('0'),
    sma: str('0'),
    multiplier: str('1: a cash account'),
    accrued_fees: str('0'),
    pending_transfer_in: str('0'),
    pending_transfer_out: str('0'),
    daytrade_count: { type: 'integer' },
    pattern_day_trader: { type: 'boolean' },
    trading_blocked: { type: 'boolean' },
    transfers_blocked: { type: 'boolean' },
    account_blocked: { type: 'boolean' },
    trade_suspended_by_user: { type: 'boolean' },
    shorting_enabled: { type: 'boolean' },
    created_at: nstr('When the user registered'),
    balance_asof: str('Date of the last_* figures'),
    bourse_reserved_cash: str('Bourse extension: cash reserved by open buy orders'),
  },
  {
    id: ACCOUNT_ID,
    account_number: 'BRS6F1C2D3E4',
    status: 'ACTIVE',
    currency: 'USD',
    cash: '10000.00',
    buying_power: '8127.50',
    equity: '10000.00',
    portfolio_value: '10000.00',
  },
);

export const clock = obj(
  {
    timestamp: str('Now'),
    is_open: { type: 'boolean' },
    next_open: str('Next open (Bourse sessions are opened by an admin: a nominal next UTC day)'),
    next_close: str('Next close (nominal)'),
  },
  {
    timestamp: TS,
    is_open: true,
    next_open: '2026-01-16T00:00:00.000Z',
    next_close: '2026-01-16T00:00:00.000Z',
  },
);

export const asset = obj(
  {
    id: str('Asset id'),
    class: str('us_equity'),
    exchange: str("'' : Bourse is not one of Alpaca's venue codes"),
    symbol: str('Symbol'),
    name: str('Name'),
    status: { type: 'string', enum: ['active', 'inactive'] },
    tradable: { type: 'boolean' },
    marginable: { type: 'boolean' },
    shortable: { type: 'boolean' },
    easy_to_borrow: { type: 'boolean' },
    fractionable: { type: 'boolean' },
    min_order_size: str('Smallest order, shares'),
    min_trade_increment: str('Lot size, shares'),
    price_increment: str('Tick size'),
    attributes: { type: 'array', items: { type: 'string' } },
  },
  {
    id: ASSET_ID,
    class: 'us_equity',
    exchange: '',
    symbol: 'AAPL',
    name: 'AAPL',
    status: 'active',
    tradable: true,
    marginable: false,
    shortable: false,
    easy_to_borrow: false,
    fractionable: false,
    min_order_size: '1',
    min_trade_increment: '1',
    price_increment: '0.01',
    attributes: [],
  },
);

export const assets = { type: 'array', items: asset };

export const position = obj(
  {
    asset_id: str('Asset id'),
    symbol: str('Symbol'),
    exchange: str("''"),
    asset_class: str('us_equity'),
    asset_marginable: { type: 'boolean' },
    qty: str('Shares held'),
    qty_available: str('Shares not reserved by open sell orders'),
    avg_entry_price: str('Cost basis per share'),
    side: str('long'),
    market_value: str('qty × current_price'),
    cost_basis: str('Cost of the shares held'),
    unrealized_pl: str('market_value − cost_basis'),
    unrealized_plpc: str('unrealized_pl / cost_basis'),
    unrealized_intraday_pl: str('Against lastday_price'),
    unrealized_intraday_plpc: str('Against lastday_price'),
    current_price: str('Last trade price (or the reference price before any trade)'),
    lastday_price: str('Reference (previous close) price'),
    change_today: str('current_price / lastday_price − 1'),
  },
  {
    asset_id: ASSET_ID,
    symbol: 'AAPL',
    exchange: '',
    asset_class: 'us_equity',
    asset_marginable: false,
    qty: '10',
    qty_available: '10',
    avg_entry_price: '187.25',
    side: 'long',
    market_value: '1880.00',
    cost_basis: '1872.50',
    unrealized_pl: '7.50',
    unrealized_plpc: '0.004',
    unrealized_intraday_pl: '7.50',
    unrealized_intraday_plpc: '0.004',
    current_price: '188.00',
    lastday_price: '187.00',
    change_today: '0.0053',
  },
);

export const positions = { type: 'array', items: position };

export const activity = obj(
  {
    id: str('Activity id: time::uuid'),
    account_id: str('Account id'),
    activity_type: { type: 'string', enum: ACTIVITY_TYPES },
    transaction_time: str('FILL: execution time'),
    type: str('FILL: fill | partial_fill'),
    price: str('FILL: price'),
    qty: str('FILL: shares'),
    side: str('FILL: buy | sell'),
    symbol: str('FILL: symbol'),
    leaves_qty: str('FILL: shares left on the order'),
    cum_qty: str('FILL: shares filled on the order so far'),
    order_id: str('FILL: order id'),
    order_status: str('FILL: filled | partially_filled'),
    date: str('CSD/CSW: date'),
    net_amount: str('CSD/CSW: amount (negative out)'),
    description: str('CSD/CSW: description'),
    status: str('CSD/CSW: executed'),
  },
  {
    id: '20260115143000000::5d1f6a2e-2b4c-5e8f-9a0b-1c2d3e4f5a6b',
    account_id: ACCOUNT_ID,
    activity_type: 'FILL',
    transaction_time: TS,
    type: 'fill',
    price: '187.25',
    qty: '10',
    side: 'buy',
    symbol: 'AAPL',
    leaves_qty: '0',
    cum_qty: '10',
    order_id: ORDER_ID,
    order_status: 'filled',
  },
);

export const activities = { type: 'array', items: activity };

const level = obj({ price: str('Price'), size: str('Shares'), orders: { type: 'integer' } });

export const snapshot = obj({
  symbol: str('Symbol'),
  latest_trade: nullable(
    obj({ price: str('Price'), size: str('Shares'), timestamp: str('Time'), trade_id: { type: 'integer' } }),
  ),
  latest_quote: obj({
    bid_price: nstr('Best bid'),
    bid_size: str('Shares at the best bid'),
    ask_price: nstr('Best ask'),
    ask_size: str('Shares at the best ask'),
  }),
  book: obj({ bids: { type: 'array', items: level }, asks: { type: 'array', items: level } }),
  seq: { type: 'integer', description: 'Journal sequence number the book reflects' },
});

export const marketDataResponse = obj(
  { snapshots: { type: 'object', additionalProperties: snapshot } },
  {
    snapshots: {
      AAPL: {
        symbol: 'AAPL',
        latest_trade: { price: '187.25', size: '100', timestamp: TS, trade_id: 42 },
        latest_quote: { bid_price: '187.24', bid_size: '300', ask_price: '187.26', ask_size: '200' },
        book: {
          bids: [{ price: '187.24', size: '300', orders: 2 }],
          asks: [{ price: '187.26', size: '200', orders: 1 }],
        },
        seq: 1234,
      },
    },
  },
);

export const problemResponse = {
  ...problemSchema,
  description: 'RFC 9457 problem details, with Alpaca’s code and message',
  properties: {
    ...problemSchema.properties,
    code: { type: 'integer', description: 'Alpaca error code' },
    message: { type: 'string', description: 'Alpaca error message' },
    reason: { type: 'string' },
    request_id: { type: 'string' },
  },
  examples: [
    {
      type: 'https://bourse.dev/problems/invalid-request',
      title: 'Invalid request',
      status: 422,
      detail: 'body/limit_price 187.255 has more than 2 decimal places: prices are in whole cents',
      code: 42210000,
      message: 'body/limit_price 187.255 has more than 2 decimal places: prices are in whole cents',
      errors: [
        {
          in: 'body',
          field: 'limit_price',
          pointer: '/limit_price',
          detail: '187.255 has more than 2 decimal places: prices are in whole cents',
        },
      ],
    },
  ],
} as const;

/**
 * The shard node's internal API (routes.ts): amounts in cents and shares, prices in cents, as the
 * engine counts them; the public API's decimal strings stay at the gateway.
 */
const int = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;
const nonNegative = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const symbol = { type: 'string', pattern: '^[A-Z][A-Z0-9.]{0,15}$' } as const;
const account = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' } as const;

const obj = (properties: Record<string, unknown>, required: string[] = Object.keys(properties)) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});

export const accountParams = obj({ account });
export const orderParams = obj({ account, id: int });
export const amountBody = obj({ amount: int });
export const sharesBody = obj({
  symbol,
  qty: { type: 'integer', minimum: -1e12, maximum: 1e12, not: { const: 0 } },
  cost: nonNegative,
});

export const orderBody = obj(
  {
    symbol,
    side: { enum: ['buy', 'sell'] },
    type: { enum: ['market', 'limit', 'stop', 'stop_limit'] },
    time_in_force: { enum: ['day', 'gtc', 'ioc', 'fok'] },
    qty: int,
    limit_price: int,
    stop_price: int,
    /** printable ASCII, unique per account: a resubmission gets the original answer */
    client_order_id: { type: 'string', pattern: '^[!-~]{1,64}$' },
  },
  ['symbol', 'side', 'type', 'time_in_force', 'qty'],
);

export const orderQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { wait: { type: 'boolean' } },
} as const;

export const replaceBody = {
  ...obj({ qty: int, limit_price: int, stop_price: int }, []),
  minProperties: 1,
};

export const instrumentBody = obj({
  symbol,
  tick_size: int,
  lot_size: int,
  min_qty: int,
  max_qty: int,
  price_band_bps: { type: 'integer', minimum: 0, maximum: 10_000 },
  collar_bps: { type: 'integer', minimum: 0, maximum: 10_000 },
  reference_price: int,
});

export const sessionBody = obj({ state: { enum: ['pre_open', 'open', 'closed'] } });

export interface OrderBody {
  symbol: string;
  side: 'buy' | 'sell';
  type: 'market' | 'limit' | 'stop' | 'stop_limit';
  time_in_force: 'day' | 'gtc' | 'ioc' | 'fok';
  qty: number;
  limit_price?: number;
  stop_price?: number;
  client_order_id?: string;
}

export interface InstrumentBody {
  symbol: string;
  tick_size: number;
  lot_size: number;
  min_qty: number;
  max_qty: number;
  price_band_bps: number;
  collar_bps: number;
  reference_price: number;
}

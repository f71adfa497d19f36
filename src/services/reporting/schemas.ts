/** JSON schemas of the routes' query strings and path parameters. */

const DAY = {
  type: 'string',
  pattern: '^\\d{4}-\\d{2}-\\d{2}$',
  description: 'UTC day, YYYY-MM-DD',
} as const;
// any listed or imported symbol (market-data's rule, plus '.' for symbols such as BRK.B)
const SYMBOL = { type: 'string', pattern: '^[A-Z0-9][A-Z0-9._-]{0,15}$' } as const;
/** extra sections of a report, comma-separated: `include=candles` */
const include = (sections: readonly string[]) =>
  ({
    type: 'string',
    pattern: `^(${sections.join('|')})(,(${sections.join('|')}))*$`,
    description: `extra sections, comma-separated: ${sections.join(', ')}`,
  }) as const;
export const FORMATS = ['json', 'csv', 'pdf'] as const;
export type Format = (typeof FORMATS)[number];

const common = {
  format: { type: 'string', enum: FORMATS, default: 'json' },
  // the gateway forwards the query as the client sent it; the account it names is already resolved
  account_id: { type: 'string', maxLength: 100 },
} as const;

const period = { from: DAY, to: DAY } as const;

export const statementQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { ...common, ...period },
} as const;

export const positionsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { ...common },
} as const;

export const performanceQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...common,
    ...period,
    benchmark: { ...SYMBOL, default: 'SPY' },
    risk_free: { type: 'number', minimum: -0.99, maximum: 10, default: 0 },
    include: include(['daily']),
  },
} as const;

export const brokerageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { ...common, ...period, brokerage_id: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;

export const clientParams = {
  type: 'object',
  required: ['userId'],
  additionalProperties: false,
  properties: { userId: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;

export const marketQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...common,
    ...period,
    timeframe: { type: 'string', enum: ['1m', '5m', '15m', '1h', '1d'], default: '1d' },
    include: include(['candles']),
  },
} as const;

export const marketParams = {
  type: 'object',
  required: ['symbol'],
  additionalProperties: false,
  properties: { symbol: SYMBOL },
} as const;

export interface PeriodQuery {
  format: Format;
  from?: string;
  to?: string;
}

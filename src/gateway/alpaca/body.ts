/**
 * Requests read as Alpaca reads them.
 *
 * - Alpaca's API takes JSON whatever the Content-Type, and clients exist that send none (or
 *   fetch's default text/plain for a string body). A /v2 request with a body and no Content-Type,
 *   or text/plain, is read as JSON; its values are still checked by the schema.
 * - Alpaca ignores fields it does not use, and Alpaca clients send some Bourse does not use (an
 *   `order_id` echoed in a replace body, `symbol` in a close-position query). A field that is one
 *   of Alpaca's own request names but not in the route's schema is dropped before validation.
 *   A name Alpaca does not know either is still refused, naming it: a misspelt `stop_prce`
 *   silently dropped would turn a stop order into a market order.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Every request field and query parameter of Alpaca's Trading API v2 and Market Data v2. */
const ALPACA_REQUEST_FIELDS = new Set([
  // orders (new, replace) and their echoes
  'order_id',
  'id',
  'symbol',
  'qty',
  'notional',
  'side',
  'type',
  'time_in_force',
  'limit_price',
  'stop_price',
  'trail_price',
  'trail_percent',
  'trail',
  'extended_hours',
  'client_order_id',
  'order_class',
  'take_profit',
  'stop_loss',
  'position_intent',
  'legs',
  'asset_class',
  'asset_id',
  'source',
  'subtag',
  'advanced_instructions',
  // lists and paging
  'status',
  'limit',
  'after',
  'until',
  'direction',
  'nested',
  'symbols',
  'before',
  'page_size',
  'page_token',
  'sort',
  'start',
  'end',
  'date',
  'category',
  'activity_types',
  'activity_type',
  // positions, assets, calendar, account
  'percentage',
  'cancel_orders',
  'symbol_or_asset_id',
  'exchange',
  'attributes',
  'date_type',
  'timezone',
  'period',
  'timeframe',
  'intraday_reporting',
  'pnl_reset',
  'extended_hours',
  'cashflow_types',
  'force_engine_reason',
  // market data
  'feed',
  'adjustment',
  'asof',
  'currency',
  'include_content',
  'exclude_contentless',
]);

interface ObjectSchema {
  type?: string;
  properties?: Record<string, unknown>;
  additionalProperties?: boolean;
}

function dropAlpacaExtras(value: unknown, schema: unknown): void {
  const s = schema as ObjectSchema | undefined;
  if (s?.additionalProperties !== false || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) return;
  const known = s.properties ?? {};
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(key in known) && ALPACA_REQUEST_FIELDS.has(key)) delete record[key];
  }
}

const isAlpaca = (req: FastifyRequest) => req.url.startsWith('/v2/') || req.url.startsWith('/v2?');

export function readAsAlpaca(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    const type = req.headers['content-type'];
    if ((type !== undefined && !type.startsWith('text/plain')) || !isAlpaca(req)) return;
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody) req.headers['content-type'] = 'application/json';
  });
  app.addHook('preValidation', async (req) => {
    if (!isAlpaca(req)) return;
    const schema = req.routeOptions.schema as { body?: unknown; querystring?: unknown } | undefined;
    dropAlpacaExtras(req.body, schema?.body);
    dropAlpacaExtras(req.query, schema?.querystring);
  });
}

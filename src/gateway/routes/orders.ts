/**
 * /v2/orders: Alpaca's order routes over the orders service. Prices and quantities arrive as
 * decimal strings (or numbers) and go on as cents and shares; order ids travel as UUIDs.
 *
 * Retries: every submission carries a client order id before its first attempt: the client's
 * client_order_id or Idempotency-Key, or else one the gateway makes up (as Alpaca does). So a
 * submission may be sent again after a failure (a lost answer, an orders leader that died, a
 * takeover): the orders service returns the original order for an id it has seen, and nothing is
 * placed twice. Cancels and replaces are not resent.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { orderIdOf } from '../../domain/alpaca-ids.ts';
import type {
  NewOrderRequest,
  Order,
  OrderStatusFilter,
  ReplaceRequest,
} from '../../services/orders/client.ts';
import { OrdersApiError } from '../../services/orders/client.ts';
import { parsePercentBps, parsePrice, parseQty } from '../alpaca/decimal.ts';
import { alpacaOrder } from '../alpaca/mapping.ts';
import * as s from '../alpaca/schemas.ts';
import { accountOf, type GatewayContext } from '../context.ts';
import { invalidField, notFound } from '../problems.ts';
import { noContent, route } from './common.ts';

type Decimal = string | number;

export interface NewOrderBody {
  symbol: string;
  qty: Decimal;
  side: 'buy' | 'sell';
  type: 'market' | 'limit' | 'stop' | 'stop_limit' | 'trailing_stop';
  time_in_force: 'day' | 'gtc' | 'ioc' | 'fok';
  limit_price?: Decimal | null;
  stop_price?: Decimal | null;
  client_order_id?: string | null;
  trail_price?: Decimal | null;
  trail_percent?: Decimal | null;
  activation_price?: Decimal | null;
  order_class?: 'simple' | 'bracket' | 'oco' | 'oto' | '' | null;
  take_profit?: { limit_price: Decimal } | null;
  stop_loss?: {
    stop_price?: Decimal;
    limit_price?: Decimal;
    trail_price?: Decimal;
    trail_percent?: Decimal;
  } | null;
}

interface ReplaceBody {
  qty?: Decimal;
  limit_price?: Decimal;
  stop_price?: Decimal;
  trail?: Decimal;
  time_in_force?: string;
  client_order_id?: string | null;
}

interface ListQuery {
  status: OrderStatusFilter;
  limit: number;
  after?: string;
  until?: string;
  direction: 'asc' | 'desc';
  symbols?: string;
  side?: 'buy' | 'sell';
}

const TAKES_LIMIT = new Set(['limit', 'stop_limit']);
const TAKES_STOP = new Set(['stop', 'stop_limit']);
/** upstream pages a list may read (500 orders each) before it answers with what it has */
const MAX_SCAN_PAGES = 20;
const CANCEL_CONCURRENCY = 16;
const SYMBOL = new RegExp(s.SYMBOL_PATTERN);
const CLIENT_ORDER_ID = new RegExp(s.CLIENT_ORDER_ID_PATTERN);

/** The Idempotency-Key header, checked like a client_order_id (it becomes one). */
function idempotencyKey(req: FastifyRequest): string | undefined {
  const key = req.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !CLIENT_ORDER_ID.test(key)) {
    throw invalidField('headers', 'idempotency-key', 'must be 1 to 64 printable characters without spaces');
  }
  return key;
}

/** A public order body → the orders service's request. Throws 422 naming the field. */
export function toNewOrder(body: NewOrderBody, key: string | undefined): { request: NewOrderRequest } {
  const given = body.client_order_id ?? undefined;
  if (given !== undefined && key !== undefined && given !== key) {
    throw invalidField('body', 'client_order_id', 'differs from the Idempotency-Key header');
  }
  const request: NewOrderRequest = {
    symbol: body.symbol,
    side: body.side,
    type: body.type,
    tif: body.time_in_force,
    qty: parseQty(body.qty, 'qty'),
    // Alpaca assigns a client order id when the client gives none; so do we
    clientOrderId: given ?? key ?? randomUUID(),
  };
  const orderClass = body.order_class || 'simple';
  const takeProfit = body.take_profit ?? undefined;
  // Alpaca's oco is a limit order whose price is the take-profit's.
  const limit =
    body.limit_price ?? (orderClass === 'oco' && body.type === 'limit' ? takeProfit?.limit_price : undefined);
  const stop = body.stop_price ?? undefined;
  addTrail(request, body);
  addLegs(request, body, orderClass);
  if (TAKES_LIMIT.has(body.type)) {
    if (limit === undefined) throw invalidField('body', 'limit_price', `is required for ${body.type} orders`);
    request.price = parsePrice(limit, 'limit_price');
  } else if (limit !== undefined) {
    throw invalidField('body', 'limit_price', `is not allowed for ${body.type} orders`);
  }
  if (TAKES_STOP.has(body.type)) {
    if (stop === undefined) throw invalidField('body', 'stop_price', `is required for ${body.type} orders`);
    request.stopPrice = parsePrice(stop, 'stop_price');
  } else if (stop !== undefined) {
    throw invalidField('body', 'stop_price', `is not allowed for ${body.type} orders`);
  }
  return { request };
}

/** trailing_stop: exactly one of trail_price, trail_percent; an optional activation price. */
function addTrail(request: NewOrderRequest, body: NewOrderBody): void {
  const price = body.trail_price ?? undefined;
  const percent = body.trail_percent ?? undefined;
  const activation = body.activation_price ?? undefined;
  if (body.type !== 'trailing_stop') {
    if (price !== undefined)
      throw invalidField('body', 'trail_price', `is not allowed for ${body.type} orders`);
    if (percent !== undefined)
      throw invalidField('body', 'trail_percent', `is not allowed for ${body.type} orders`);
    if (activation !== undefined)
      throw invalidField('body', 'activation_price', `is not allowed for ${body.type} orders`);
    return;
  }
  if ((price === undefined) === (percent === undefined)) {
    throw invalidField('body', 'trail_price', 'give exactly one of trail_price and trail_percent');
  }
  if (price !== undefined) request.trailPrice = parsePrice(price, 'trail_price');
  if (percent !== undefined) request.trailBps = parsePercentBps(percent, 'trail_percent');
  if (activation !== undefined) request.activationPrice = parsePrice(activation, 'activation_price');
}

/** bracket / oto / oco legs, Alpaca's take_profit and stop_loss (a trailing stop-loss is a Bourse extension). */
function addLegs(request: NewOrderRequest, body: NewOrderBody, orderClass: string): void {
  const tp = body.take_profit ?? undefined;
  const sl = body.stop_loss ?? undefined;
  if (orderClass === 'simple') {
    if (tp !== undefined) throw invalidField('body', 'take_profit', 'needs order_class bracket or oto');
    if (sl !== undefined) throw invalidField('body', 'stop_loss', 'needs order_class bracket, oto or oco');
    return;
  }
  request.orderClass = orderClass as NonNullable<NewOrderRequest['orderClass']>;
  if (orderClass !== 'oco' && tp !== undefined) {
    request.takeProfit = { price: parsePrice(tp.limit_price, 'take_profit.limit_price') };
  }
  if (orderClass === 'oco' && tp === undefined && body.limit_price == null) {
    throw invalidField('body', 'take_profit', 'an oco needs take_profit.limit_price');
  }
  if (sl === undefined) {
    if (orderClass !== 'oto') throw invalidField('body', 'stop_loss', `is required for ${orderClass} orders`);
    if (tp === undefined) throw invalidField('body', 'take_profit', 'an oto needs take_profit or stop_loss');
    return;
  }
  const kinds = [sl.stop_price, sl.trail_price, sl.trail_percent].filter((v) => v !== undefined).length;
  if (kinds !== 1) {
    throw invalidField('body', 'stop_loss', 'give exactly one of stop_price, trail_price and trail_percent');
  }
  if (sl.stop_price !== undefined) {
    request.stopLoss = { stopPrice: parsePrice(sl.stop_price, 'stop_loss.stop_price') };
    if (sl.limit_price !== undefined)
      request.stopLoss.price = parsePrice(sl.limit_price, 'stop_loss.limit_price');
  } else {
    if (sl.limit_price !== undefined)
      throw invalidField('body', 'stop_loss.limit_price', 'is not allowed with a trailing stop-loss');
    request.stopLoss =
      sl.trail_price !== undefined
        ? { trailPrice: parsePrice(sl.trail_price, 'stop_loss.trail_price') }
        : { trailBps: parsePercentBps(sl.trail_percent!, 'stop_loss.trail_percent') };
  }
}

/** Submits a public order for the request's account: POST /v2/orders and POST /market-data. */
export async function submitOrder(ctx: GatewayContext, req: FastifyRequest<{ Body: NewOrderBody }>) {
  const { request } = toNewOrder(req.body, idempotencyKey(req));
  const account = await accountOf(ctx, req);
  try {
    // idempotent by its client order id (given or assigned above): safe to send again
    const result = await ctx.orders(req.id, true, (c) => c.submitOrder(account, request));
    ctx.metrics.orders.inc({ outcome: result.replayed ? 'replayed' : 'accepted' });
    return alpacaOrder(result.order);
  } catch (err) {
    if (err instanceof OrdersApiError && err.status < 500) ctx.metrics.orders.inc({ outcome: 'refused' });
    throw err;
  }
}

export function orderIdParam(uuid: string): number {
  const id = orderIdOf(uuid);
  if (id === null) throw notFound(`order ${uuid} not found`);
  return id;
}

function symbolList(raw: string | undefined): Set<string> | undefined {
  if (raw === undefined) return undefined;
  const list = raw.split(',');
  const bad = list.find((x) => !SYMBOL.test(x));
  if (bad !== undefined)
    throw invalidField('querystring', 'symbols', `${JSON.stringify(bad.slice(0, 20))} is not a symbol`);
  return new Set(list);
}

function timeParam(raw: string | undefined, field: string): number | undefined {
  if (raw === undefined) return undefined;
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw invalidField('querystring', field, 'must be an RFC 3339 time');
  return t;
}

/** Newest first through the service's keyset pages, filtered here by time, symbols and side. */
async function listOrders(ctx: GatewayContext, req: FastifyRequest, account: string, q: ListQuery) {
  const symbols = symbolList(q.symbols);
  const after = timeParam(q.after, 'after');
  const until = timeParam(q.until, 'until');
  const filtered =
    symbols !== undefined || after !== undefined || until !== undefined || q.side !== undefined;
  const one = symbols?.size === 1 ? [...symbols][0] : undefined;
  const found: Order[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_SCAN_PAGES; page++) {
    const { items, nextCursor } = await ctx.orders(req.id, true, (c) =>
      c.listOrders(account, {
        status: q.status,
        limit: q.direction === 'desc' && !filtered ? q.limit : 500,
        ...(one !== undefined && { symbol: one }),
        ...(cursor !== undefined && { cursor }),
      }),
    );
    let older = false;
    for (const o of items) {
      if (after !== undefined && o.createdAt <= after) {
        older = true;
        break;
      }
      if (until !== undefined && o.createdAt > until) continue;
      if (symbols && !symbols.has(o.symbol)) continue;
      if (q.side !== undefined && o.side !== q.side) continue;
      found.push(o);
    }
    if (older || nextCursor === null || (q.direction === 'desc' && found.length >= q.limit)) break;
    cursor = nextCursor;
  }
  const ordered = q.direction === 'asc' ? found.reverse() : found;
  return ordered.slice(0, q.limit).map(alpacaOrder);
}

export async function cancelAll(ctx: GatewayContext, req: FastifyRequest, account: string) {
  const open: Order[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_SCAN_PAGES; page++) {
    const res = await ctx.orders(req.id, true, (c) =>
      c.listOrders(account, { status: 'open', limit: 500, ...(cursor !== undefined && { cursor }) }),
    );
    open.push(...res.items);
    if (res.nextCursor === null) break;
    cursor = res.nextCursor;
  }
  const results: { id: string; status: number; body: unknown }[] = [];
  for (let i = 0; i < open.length; i += CANCEL_CONCURRENCY) {
    const batch = open.slice(i, i + CANCEL_CONCURRENCY);
    results.push(
      ...(await Promise.all(
        batch.map(async (o) => {
          const id = alpacaOrder(o).id;
          try {
            const canceled = await ctx.orders(req.id, false, (c) => c.cancelOrder(account, o.id));
            return { id, status: 200, body: alpacaOrder(canceled) };
          } catch (err) {
            const status = err instanceof OrdersApiError ? err.status : 503;
            const message = err instanceof Error ? err.message : 'cancel failed';
            return { id, status, body: { code: status * 100_000 + 10_000, message } };
          }
        }),
      )),
    );
  }
  return results;
}

export async function orderRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const tags = ['orders'];

  app.post<{ Body: NewOrderBody }>(
    '/v2/orders',
    route({
      tags,
      summary: 'Submit an order',
      description:
        'Alpaca-compatible. `qty` in whole shares, prices in whole cents (more decimals are refused, never ' +
        'rounded). With a `client_order_id` (or an `Idempotency-Key` header) a resubmission returns the ' +
        'original order instead of placing another, and the gateway may retry it safely.',
      body: s.newOrderBody,
      querystring: s.actingQuery,
      response: { 200: s.order },
      rateClass: 'orders',
    }),
    (req) => submitOrder(ctx, req),
  );

  app.get<{ Querystring: ListQuery }>(
    '/v2/orders',
    route({
      tags,
      summary: 'List orders',
      description: `Newest first unless direction=asc. Filters by time, symbols and side read at most ${MAX_SCAN_PAGES * 500} orders.`,
      querystring: s.listOrdersQuery,
      response: { 200: s.orders },
    }),
    async (req) => listOrders(ctx, req, await accountOf(ctx, req), req.query),
  );

  app.delete(
    '/v2/orders',
    route({
      tags,
      summary: 'Cancel all open orders',
      description: 'Multi-status: one entry per open order with the HTTP status of its cancel.',
      querystring: s.actingQuery,
      response: { 207: s.cancelAllResponse },
      rateClass: 'orders',
    }),
    async (req, reply) => reply.code(207).send(await cancelAll(ctx, req, await accountOf(ctx, req))),
  );

  app.get<{ Querystring: { client_order_id: string } }>(
    // '::' is find-my-way's escaped ':' — the path is /v2/orders:by_client_order_id
    '/v2/orders::by_client_order_id',
    route({
      tags,
      summary: 'Get an order by client order id',
      querystring: s.byClientOrderIdQuery,
      response: { 200: s.order },
    }),
    async (req) => {
      const account = await accountOf(ctx, req);
      const order = await ctx.orders(req.id, true, (c) =>
        c.getOrderByClientId(account, req.query.client_order_id),
      );
      return alpacaOrder(order);
    },
  );

  app.get<{ Params: { order_id: string } }>(
    '/v2/orders/:order_id',
    route({
      tags,
      summary: 'Get an order',
      params: s.orderIdParams,
      querystring: s.actingQuery,
      response: { 200: s.order },
    }),
    async (req) => {
      const id = orderIdParam(req.params.order_id);
      const account = await accountOf(ctx, req);
      return alpacaOrder(await ctx.orders(req.id, true, (c) => c.getOrder(account, id)));
    },
  );

  app.patch<{ Params: { order_id: string }; Body: ReplaceBody }>(
    '/v2/orders/:order_id',
    route({
      tags,
      summary: 'Replace an order',
      description:
        'Cancel/replace in place: the order keeps its id (Alpaca gives the replacement a new one). `qty` is ' +
        'the new total quantity, filled shares included.',
      params: s.orderIdParams,
      querystring: s.actingQuery,
      body: s.replaceOrderBody,
      response: { 200: s.order },
      rateClass: 'orders',
    }),
    async (req) => {
      const id = orderIdParam(req.params.order_id);
      const b = req.body;
      const change: ReplaceRequest = {};
      if (b.qty !== undefined) change.qty = parseQty(b.qty, 'qty');
      if (b.limit_price !== undefined) change.price = parsePrice(b.limit_price, 'limit_price');
      if (b.stop_price !== undefined) change.stopPrice = parsePrice(b.stop_price, 'stop_price');
      const account = await accountOf(ctx, req);
      const newId = b.client_order_id ?? undefined;
      if (b.time_in_force !== undefined || newId !== undefined || b.trail !== undefined) {
        const current = await ctx.orders(req.id, true, (c) => c.getOrder(account, id));
        if (b.trail !== undefined) {
          // Alpaca's `trail` is in the unit the order trails by: dollars or percent.
          if (current.orderType !== 'trailing_stop')
            throw invalidField('body', 'trail', `is not allowed for ${current.orderType} orders`);
          if (current.trailBps) change.trailBps = parsePercentBps(b.trail, 'trail');
          else change.trailPrice = parsePrice(b.trail, 'trail');
        }
        if (b.time_in_force !== undefined && b.time_in_force !== current.tif) {
          throw invalidField('body', 'time_in_force', `cannot change (the order is ${current.tif})`);
        }
        if (newId !== undefined && newId !== current.clientOrderId) {
          throw invalidField('body', 'client_order_id', 'cannot change: a replaced order keeps its ids');
        }
      }
      if (Object.keys(change).length === 0) {
        throw invalidField('body', 'qty', 'give at least one of qty, limit_price, stop_price, trail');
      }
      return alpacaOrder(await ctx.orders(req.id, false, (c) => c.replaceOrder(account, id, change)));
    },
  );

  app.delete<{ Params: { order_id: string } }>(
    '/v2/orders/:order_id',
    route({
      tags,
      summary: 'Cancel an order',
      params: s.orderIdParams,
      querystring: s.actingQuery,
      response: { 204: noContent },
      rateClass: 'orders',
    }),
    async (req, reply) => {
      const id = orderIdParam(req.params.order_id);
      const account = await accountOf(ctx, req);
      await ctx.orders(req.id, false, (c) => c.cancelOrder(account, id));
      return reply.code(204).send();
    },
  );
}

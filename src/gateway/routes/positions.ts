/** /v2/positions: the account's holdings valued at the last trade price; closing one sells it. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Instrument, Position } from '../../services/orders/client.ts';
import { parseQty } from '../alpaca/decimal.ts';
import { alpacaOrder, alpacaPosition, marksOf } from '../alpaca/mapping.ts';
import * as s from '../alpaca/schemas.ts';
import { accountOf, type GatewayContext } from '../context.ts';
import { fail, invalidField, notFound } from '../problems.ts';
import { route } from './common.ts';
import { cancelAll } from './orders.ts';

export async function marksFor(ctx: GatewayContext, req: FastifyRequest) {
  const instruments = await ctx.quotes.instruments(req.id);
  const bySymbol = new Map<string, Instrument>(instruments.map((i) => [i.symbol, i]));
  return (symbol: string) => marksOf(bySymbol.get(symbol));
}

async function held(ctx: GatewayContext, req: FastifyRequest, account: string): Promise<Position[]> {
  const all = await ctx.orders(req.id, true, (c) => c.positions(account));
  return all.filter((p) => p.qty > 0);
}

const noPosition = (symbol: string) => notFound(`position does not exist: no ${symbol} shares held`);

/** Shares to sell when closing: all available, `qty` of them, or `percentage` (rounded down). */
function closingQty(position: Position, q: { qty?: string; percentage?: string }): number {
  if (q.qty !== undefined && q.percentage !== undefined) {
    throw invalidField('querystring', 'percentage', 'give qty or percentage, not both');
  }
  let qty = position.available;
  if (q.qty !== undefined) qty = parseQty(q.qty, 'qty', 'querystring');
  if (q.percentage !== undefined) {
    const m = /^(\d{1,3})(?:\.(\d{1,9}))?$/.exec(q.percentage);
    const pct = m ? Number(q.percentage) : Number.NaN;
    if (!(pct > 0 && pct <= 100))
      throw invalidField('querystring', 'percentage', 'must be a number in (0, 100]');
    qty = Math.floor((position.qty * pct) / 100);
  }
  if (qty < 1 || qty > position.available) {
    throw fail(
      403,
      'insufficient-shares',
      'Insufficient shares',
      `insufficient qty available for order (requested: ${qty}, available: ${position.available})`,
    );
  }
  return qty;
}

export async function positionRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const tags = ['positions'];

  app.get(
    '/v2/positions',
    route({
      tags,
      summary: 'List open positions',
      querystring: s.actingQuery,
      response: { 200: s.positions },
    }),
    async (req) => {
      const account = await accountOf(ctx, req);
      const [positions, marks] = await Promise.all([held(ctx, req, account), marksFor(ctx, req)]);
      return positions.map((p) => alpacaPosition(p, marks(p.symbol)));
    },
  );

  app.get<{ Params: { symbol: string } }>(
    '/v2/positions/:symbol',
    route({
      tags,
      summary: 'Get an open position',
      params: s.symbolParams,
      querystring: s.actingQuery,
      response: { 200: s.position },
    }),
    async (req) => {
      const account = await accountOf(ctx, req);
      const [positions, marks] = await Promise.all([held(ctx, req, account), marksFor(ctx, req)]);
      const p = positions.find((x) => x.symbol === req.params.symbol);
      if (!p) throw noPosition(req.params.symbol);
      return alpacaPosition(p, marks(p.symbol));
    },
  );

  app.delete<{ Querystring: { cancel_orders?: boolean } }>(
    '/v2/positions',
    route({
      tags,
      summary: 'Close all positions',
      description:
        'Multi-status: one market sell order per position, of its available shares (all of them once ' +
        '`cancel_orders=true` has cancelled the open orders first).',
      querystring: s.closeAllQuery,
      response: { 207: s.closeAllResponse },
      rateClass: 'orders',
    }),
    async (req, reply) => {
      const account = await accountOf(ctx, req);
      if (req.query.cancel_orders) await cancelAll(ctx, req, account);
      const positions = (await held(ctx, req, account)).filter((p) => p.available > 0);
      const closed = [];
      for (const p of positions) {
        const result = await ctx.orders(req.id, false, (c) =>
          c.submitOrder(account, {
            symbol: p.symbol,
            side: 'sell',
            type: 'market',
            tif: 'day',
            qty: p.available,
          }),
        );
        ctx.metrics.orders.inc({ outcome: 'accepted' });
        closed.push({ symbol: p.symbol, status: 200, body: alpacaOrder(result.order) });
      }
      return reply.code(207).send(closed);
    },
  );

  app.delete<{ Params: { symbol: string }; Querystring: { qty?: string; percentage?: string } }>(
    '/v2/positions/:symbol',
    route({
      tags,
      summary: 'Close a position',
      description: 'Sends a market sell order of the available shares (or of `qty` / `percentage` of them).',
      params: s.symbolParams,
      querystring: s.closePositionQuery,
      response: { 200: s.order },
      rateClass: 'orders',
    }),
    async (req) => {
      const account = await accountOf(ctx, req);
      const positions = await held(ctx, req, account);
      const p = positions.find((x) => x.symbol === req.params.symbol);
      if (!p) throw noPosition(req.params.symbol);
      const qty = closingQty(p, req.query);
      const result = await ctx.orders(req.id, false, (c) =>
        c.submitOrder(account, { symbol: p.symbol, side: 'sell', type: 'market', tif: 'day', qty }),
      );
      ctx.metrics.orders.inc({ outcome: 'accepted' });
      return alpacaOrder(result.order);
    },
  );
}

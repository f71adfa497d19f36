/** Price alerts: create, list, read, delete. Only ever the caller's own. */
import type { FastifyInstance } from 'fastify';
import { alertView } from './alerts.ts';
import { authenticate, identityOf } from './auth.ts';
import type { UsersContext } from './context.ts';
import { decimalToCents } from './money.ts';
import { decodeCursor, page } from './pagination.ts';
import { invalidField, notFound } from './problems.ts';
import {
  type AlertBody,
  type AlertsQuery,
  alertBody,
  alertPage,
  alertSchema,
  alertsQuery,
  idParam,
  noContent,
  route,
  withProblems,
} from './schemas.ts';

export async function alertRoutes(app: FastifyInstance, ctx: UsersContext): Promise<void> {
  const any = authenticate(ctx.auth, 'any');

  app.post<{ Body: AlertBody }>(
    '/alerts',
    {
      onRequest: any,
      schema: route({
        summary: 'Alert me once when SYMBOL trades at or above / at or below a price',
        body: alertBody,
        response: withProblems({ 201: alertSchema }),
      }),
    },
    async (req, reply) => {
      const cents = decimalToCents(req.body.price);
      if (cents === null || cents <= 0)
        throw invalidField('body', 'price', 'must be a positive price in dollars');
      const row = await ctx.alerts.create(identityOf(req).userId, {
        symbol: req.body.symbol,
        condition: req.body.condition,
        priceCents: cents,
      });
      return reply.code(201).send(alertView(row));
    },
  );

  app.get<{ Querystring: AlertsQuery }>(
    '/alerts',
    {
      onRequest: any,
      schema: route({
        summary: 'Your price alerts',
        querystring: alertsQuery,
        response: withProblems({ 200: alertPage }),
      }),
    },
    async (req) => {
      const q = req.query;
      const rows = await ctx.alerts.list(identityOf(req).userId, {
        status: q.status,
        afterSeq: decodeCursor(q.cursor),
        limit: q.limit,
      });
      const p = page(rows, q.limit);
      return { alerts: p.rows.map(alertView), next_cursor: p.next };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/alerts/:id',
    {
      onRequest: any,
      schema: route({
        summary: 'One of your alerts',
        params: idParam,
        response: withProblems({ 200: alertSchema }),
      }),
    },
    async (req) => {
      const row = await ctx.alerts.get(identityOf(req).userId, req.params.id);
      if (!row) throw notFound('Alert');
      return alertView(row);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/alerts/:id',
    {
      onRequest: any,
      schema: route({ summary: 'Delete one of your alerts', params: idParam, response: noContent }),
    },
    async (req, reply) => {
      if (!(await ctx.alerts.remove(identityOf(req).userId, req.params.id))) throw notFound('Alert');
      return reply.code(204).send();
    },
  );
}

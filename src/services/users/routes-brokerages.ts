/** Brokerages (tenants): created and listed by admins; a member may read their own. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { authenticate, identityOf } from './auth.ts';
import { nowDate, type UsersContext } from './context.ts';
import { decodeCursor, type PageQuery, page } from './pagination.ts';
import { notFound } from './problems.ts';
import {
  brokerageBody,
  brokeragePage,
  brokerageSchema,
  idParam,
  pageQuery,
  route,
  withProblems,
} from './schemas.ts';
import { brokerageById, brokerageView, insertBrokerage, listBrokerages } from './store.ts';

export async function brokerageRoutes(app: FastifyInstance, ctx: UsersContext): Promise<void> {
  app.post<{ Body: { name: string } }>(
    '/brokerages',
    {
      onRequest: authenticate(ctx.auth, 'session', ['admin']),
      schema: route({
        summary: 'Admin: create a brokerage',
        body: brokerageBody,
        response: withProblems({ 201: brokerageSchema }),
      }),
    },
    async (req, reply) => {
      const row = await insertBrokerage(ctx.db, { id: randomUUID(), name: req.body.name, now: nowDate(ctx) });
      req.log.info({ brokerageId: row.id, by: identityOf(req).userId }, 'brokerage created');
      return reply.code(201).send(brokerageView(row));
    },
  );

  app.get<{ Querystring: PageQuery }>(
    '/brokerages',
    {
      onRequest: authenticate(ctx.auth, 'any', ['admin']),
      schema: route({
        summary: 'Admin: list brokerages',
        querystring: pageQuery,
        response: withProblems({ 200: brokeragePage }),
      }),
    },
    async (req) => {
      const rows = await listBrokerages(ctx.db, decodeCursor(req.query.cursor), req.query.limit);
      const p = page(rows, req.query.limit);
      return { brokerages: p.rows.map(brokerageView), next_cursor: p.next };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/brokerages/:id',
    {
      onRequest: authenticate(ctx.auth, 'any'),
      schema: route({
        summary: 'A brokerage: admins any, members their own',
        params: idParam,
        response: withProblems({ 200: brokerageSchema }),
      }),
    },
    async (req) => {
      const actor = identityOf(req);
      if (actor.role !== 'admin' && actor.brokerageId !== req.params.id) throw notFound('Brokerage');
      const row = await brokerageById(ctx.db, req.params.id);
      if (!row) throw notFound('Brokerage');
      return brokerageView(row);
    },
  );
}

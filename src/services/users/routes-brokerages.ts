/**
 * Brokerages (tenants): created and listed by admins; a member may read their own. A broker of the
 * brokerage (or an admin) invites people to register into it (invites.ts).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { authenticate, identityOf } from './auth.ts';
import { nowDate, type UsersContext } from './context.ts';
import { inviteView } from './invites.ts';
import { decodeCursor, type PageQuery, page } from './pagination.ts';
import { INVITE_DEFAULT_HOURS } from './patterns.ts';
import { notFound } from './problems.ts';
import {
  brokerageBody,
  brokeragePage,
  brokerageSchema,
  idParam,
  inviteBody,
  inviteSchema,
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

  app.post<{ Params: { id: string }; Body: { expires_in_hours: number } }>(
    '/brokerages/:id/invites',
    {
      onRequest: authenticate(ctx.auth, 'session', ['broker', 'admin']),
      schema: route({
        summary: 'Invite someone to register into the brokerage: a single-use code that expires',
        params: idParam,
        body: inviteBody,
        response: withProblems({ 201: inviteSchema }),
      }),
    },
    async (req, reply) => {
      const actor = identityOf(req);
      // another brokerage's id is as unknown to a broker as one that does not exist
      if (actor.role !== 'admin' && actor.brokerageId !== req.params.id) throw notFound('Brokerage');
      if (!(await brokerageById(ctx.db, req.params.id))) throw notFound('Brokerage');
      const { row, code } = await ctx.invites.create(
        ctx.db,
        req.params.id,
        actor.userId,
        (req.body?.expires_in_hours ?? INVITE_DEFAULT_HOURS) * 3600,
      );
      req.log.info({ brokerageId: row.brokerage_id, inviteId: row.id, by: actor.userId }, 'invite created');
      return reply.code(201).send(inviteView(row, code));
    },
  );
}

/** The notifications inbox: list (newest first), mark read. Only ever the caller's own. */
import type { FastifyInstance } from 'fastify';
import { authenticate, identityOf } from './auth.ts';
import type { UsersContext } from './context.ts';
import { decodeCursor, page } from './pagination.ts';
import { notFound } from './problems.ts';
import {
  idParam,
  type NotificationsQuery,
  noContent,
  notificationPage,
  notificationsQuery,
  route,
  withProblems,
} from './schemas.ts';

export async function notificationRoutes(app: FastifyInstance, ctx: UsersContext): Promise<void> {
  const any = authenticate(ctx.auth, 'any');

  app.get<{ Querystring: NotificationsQuery }>(
    '/notifications',
    {
      onRequest: any,
      schema: route({
        summary: 'Your notifications, newest first (`unread=true` for unread only)',
        querystring: notificationsQuery,
        response: withProblems({ 200: notificationPage }),
      }),
    },
    async (req) => {
      const q = req.query;
      const rows = await ctx.inbox.list(identityOf(req).userId, {
        unreadOnly: q.unread === true,
        beforeSeq: decodeCursor(q.cursor),
        limit: q.limit,
      });
      const p = page(rows, q.limit);
      return { notifications: p.rows.map(({ seq: _seq, ...n }) => n), next_cursor: p.next };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/notifications/:id/read',
    {
      onRequest: any,
      schema: route({ summary: 'Mark one notification read', params: idParam, response: noContent }),
    },
    async (req, reply) => {
      if (!(await ctx.inbox.markRead(identityOf(req).userId, req.params.id))) throw notFound('Notification');
      return reply.code(204).send();
    },
  );

  app.post(
    '/notifications/read-all',
    { onRequest: any, schema: route({ summary: 'Mark all your notifications read', response: noContent }) },
    async (req, reply) => {
      await ctx.inbox.markAllRead(identityOf(req).userId);
      return reply.code(204).send();
    },
  );
}

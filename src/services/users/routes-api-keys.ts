/** API keys: create (the secret is in this one answer only), list (never secrets), revoke. */
import type { FastifyInstance } from 'fastify';
import { apiKeyView } from './api-keys.ts';
import { authenticate, identityOf } from './auth.ts';
import type { UsersContext } from './context.ts';
import { decodeCursor, type PageQuery, page } from './pagination.ts';
import { notFound } from './problems.ts';
import {
  apiKeyCreateBody,
  apiKeyCreated,
  apiKeyIdParam,
  apiKeyPage,
  noContent,
  pageQuery,
  route,
  withProblems,
} from './schemas.ts';

export async function apiKeyRoutes(app: FastifyInstance, ctx: UsersContext): Promise<void> {
  // managing keys needs a login: a leaked key must not be able to mint or hide other keys
  const session = authenticate(ctx.auth, 'session');

  app.post<{ Body: { name?: string } | null }>(
    '/api-keys',
    {
      onRequest: session,
      schema: route({
        summary: 'Create an API key; the secret is shown in this answer only',
        body: apiKeyCreateBody,
        response: withProblems({ 201: apiKeyCreated }),
      }),
    },
    async (req, reply) => {
      const id = identityOf(req);
      const { row, secret } = await ctx.apiKeys.create(id.userId, req.body?.name ?? null);
      req.log.info({ userId: id.userId, keyId: row.id }, 'API key created');
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ ...apiKeyView(row), secret });
    },
  );

  app.get<{ Querystring: PageQuery }>(
    '/api-keys',
    {
      onRequest: authenticate(ctx.auth, 'any'),
      schema: route({
        summary: 'Your API keys (without secrets)',
        querystring: pageQuery,
        response: withProblems({ 200: apiKeyPage }),
      }),
    },
    async (req) => {
      const rows = await ctx.apiKeys.list(
        identityOf(req).userId,
        decodeCursor(req.query.cursor),
        req.query.limit,
      );
      const p = page(rows, req.query.limit);
      return { api_keys: p.rows.map(apiKeyView), next_cursor: p.next };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api-keys/:id',
    {
      onRequest: session,
      schema: route({ summary: 'Revoke one of your API keys', params: apiKeyIdParam, response: noContent }),
    },
    async (req, reply) => {
      const id = identityOf(req);
      if (!(await ctx.apiKeys.revoke(id.userId, req.params.id))) throw notFound('API key');
      req.log.info({ userId: id.userId, keyId: req.params.id }, 'API key revoked');
      return reply.code(204).send();
    },
  );
}

/**
 * `/internal/*`: what the HTTP UsersClient calls (client.ts). Service-to-service only: every request
 * must carry the internal token (derived from BOURSE_SECRET), and the gateway never routes
 * `/internal` from the outside.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hasInternalToken, INTERNAL_TOKEN_PROBLEM } from '../../platform/http/forwarded-identity.ts';
import type { Identity } from './client.ts';
import type { UsersContext } from './context.ts';
import { decodeCursor, page } from './pagination.ts';
import { canActFor } from './policy.ts';
import { notFound, problem, unauthorized } from './problems.ts';
import {
  canActForBody,
  identitySchema,
  idParam,
  route,
  type UsersQuery,
  userPage,
  userSchema,
  usersQuery,
  verifyBody,
  withProblems,
} from './schemas.ts';
import { listUsers, userById, userView } from './store.ts';

type VerifyBody = { access_token: string } | { key_id: string; secret_key: string };

export async function internalRoutes(app: FastifyInstance, ctx: UsersContext): Promise<void> {
  // the same check as the services' server (forwarded-identity.ts), kept here too so that the
  // routes stay internal wherever the plugin is mounted
  const onRequest = async (req: FastifyRequest) => {
    if (!hasInternalToken(req.headers, ctx.internalTokens)) {
      const p = INTERNAL_TOKEN_PROBLEM;
      throw problem(p.status, 'internal-token', p.title, p.detail);
    }
  };

  app.post<{ Body: VerifyBody }>(
    '/internal/verify',
    {
      onRequest,
      schema: route({
        summary: 'Internal: credentials → identity',
        body: verifyBody,
        response: withProblems({ 200: identitySchema }),
      }),
    },
    async (req) => {
      const b = req.body;
      const id =
        'access_token' in b
          ? await ctx.auth.fromAccessToken(b.access_token)
          : await ctx.auth.fromApiKey(b.key_id, b.secret_key);
      if (!id) throw unauthorized();
      return id;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/internal/users/:id',
    {
      onRequest,
      schema: route({
        summary: 'Internal: a user',
        params: idParam,
        response: withProblems({ 200: userSchema }),
      }),
    },
    async (req) => {
      const u = await userById(ctx.db, req.params.id);
      if (!u) throw notFound('User');
      return userView(u);
    },
  );

  app.get<{ Querystring: UsersQuery }>(
    '/internal/users',
    {
      onRequest,
      schema: route({
        summary: 'Internal: list users',
        querystring: usersQuery,
        response: withProblems({ 200: userPage }),
      }),
    },
    async (req) => {
      const q = req.query;
      const rows = await listUsers(ctx.db, {
        brokerageId: q.brokerage_id,
        role: q.role,
        afterSeq: decodeCursor(q.cursor),
        limit: q.limit,
      });
      const p = page(rows, q.limit);
      return { users: p.rows.map(userView), next_cursor: p.next };
    },
  );

  app.post<{ Body: { actor: Identity; target_user_id: string } }>(
    '/internal/can-act-for',
    {
      onRequest,
      schema: route({
        summary: 'Internal: may this identity act for that user?',
        body: canActForBody,
        response: withProblems({
          200: { type: 'object', required: ['allowed'], properties: { allowed: { type: 'boolean' } } },
        }),
      }),
    },
    async (req) => {
      const target = await userById(ctx.db, req.body.target_user_id);
      return { allowed: target !== null && canActFor(req.body.actor, target) };
    },
  );
}

/** Login, refresh-token rotation, logout, the JWKS, and (admin) signing key rotation. */
import type { FastifyInstance } from 'fastify';
import { authenticate, identify, identityOf } from './auth.ts';
import type { Identity } from './client.ts';
import type { UsersContext } from './context.ts';
import { checkPassword, loginClientOf } from './credentials.ts';
import { DEVICE_COOKIE } from './devices.ts';
import { problem, unauthorized } from './problems.ts';
import {
  jwksResponse,
  type LoginBody,
  loginBody,
  loginResponse,
  logoutBody,
  noContent,
  refreshBody,
  route,
  tokenResponse,
  withProblems,
} from './schemas.ts';
import { type UserRow, userByLogin } from './store.ts';

const identityOfRow = (u: UserRow): Identity => ({
  userId: u.id,
  role: u.role,
  brokerageId: u.brokerage_id,
  username: u.username,
});

const invalidCredentials = () =>
  problem(401, 'invalid-credentials', 'Invalid credentials', 'Unknown user or wrong password');

export async function authRoutes(app: FastifyInstance, ctx: UsersContext): Promise<void> {
  async function tokenAnswer(user: UserRow, sessionId: string, refreshToken: string) {
    const { token, expiresIn } = await ctx.tokens.sign(identityOfRow(user), sessionId);
    return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, refresh_token: refreshToken };
  }

  app.post<{ Body: LoginBody }>(
    '/auth/login',
    {
      schema: route({
        summary: 'Log in with username (or email) and password',
        body: loginBody,
        response: withProblems({ 200: loginResponse }),
      }),
    },
    async (req, reply) => {
      const { username: login, password } = req.body;
      const user = await userByLogin(ctx.db, login);
      if (!(await checkPassword(ctx, user, login, password, loginClientOf(ctx, req, user))) || !user) {
        req.log.info({ userId: user?.id }, 'login failed');
        throw invalidCredentials();
      }
      const { sessionId, refreshToken } = await ctx.sessions.open(ctx.db, user.id);
      req.log.info({ userId: user.id, sessionId }, 'login');
      // this device is known from now on: its logins are not slowed by others' failures
      const device = ctx.devices.issue(user.id, ctx.clock.now());
      reply.header(
        'set-cookie',
        `${DEVICE_COOKIE}=${device.token}; Max-Age=${device.maxAgeSec}; Path=/auth; HttpOnly; SameSite=Strict`,
      );
      // tokens must not end up in a shared cache
      reply.header('cache-control', 'no-store');
      return { ...(await tokenAnswer(user, sessionId, refreshToken)), device_token: device.token };
    },
  );

  app.post<{ Body: { refresh_token: string } }>(
    '/auth/refresh',
    {
      schema: route({
        summary:
          'Exchange a refresh token for new tokens (the old refresh token dies; reusing it ends the session)',
        body: refreshBody,
        response: withProblems({ 200: tokenResponse }),
      }),
    },
    async (req, reply) => {
      const r = await ctx.sessions.rotate(req.body.refresh_token);
      if (!r.ok) {
        if (r.reason === 'reuse') req.log.warn('refresh token reuse: session revoked');
        throw unauthorized('The refresh token is invalid, expired or revoked', 'invalid_grant');
      }
      reply.header('cache-control', 'no-store');
      return tokenAnswer(r.user, r.sessionId, r.refreshToken);
    },
  );

  app.post<{ Body: { refresh_token?: string } | null }>(
    '/auth/logout',
    {
      schema: route({
        summary: 'End this session: with a Bearer token, or with the refresh_token in the body',
        body: logoutBody,
        response: noContent,
      }),
    },
    async (req, reply) => {
      const refresh = req.body?.refresh_token;
      if (refresh !== undefined) {
        // holding the refresh token is the proof; an unknown one is already as good as logged out
        await ctx.sessions.revokeByRefreshToken(refresh);
        return reply.code(204).send();
      }
      const id = await identify(ctx.auth, req, 'session');
      if (!id) throw unauthorized('Authentication required', 'invalid_request');
      await ctx.sessions.revoke(ctx.db, id.credentialId, id.userId, 'logout');
      return reply.code(204).send();
    },
  );

  app.post(
    '/auth/logout-all',
    {
      onRequest: authenticate(ctx.auth, 'session'),
      schema: route({
        summary: 'End every session of yours (API keys are not affected)',
        response: noContent,
      }),
    },
    async (req, reply) => {
      const id = identityOf(req);
      const n = await ctx.sessions.revokeAll(ctx.db, id.userId, 'logout_all');
      req.log.info({ userId: id.userId, sessions: n }, 'logged out everywhere');
      return reply.code(204).send();
    },
  );

  app.get(
    '/.well-known/jwks.json',
    {
      schema: route({
        summary: 'Public keys that verify access tokens',
        response: withProblems({ 200: jwksResponse }),
      }),
    },
    async (_req, reply) => {
      reply.header('cache-control', 'public, max-age=60');
      return ctx.keys.jwks();
    },
  );

  app.post(
    '/auth/keys/rotate',
    {
      onRequest: authenticate(ctx.auth, 'session', ['admin']),
      schema: route({
        summary: 'Admin: replace the token signing key now (the previous one keeps verifying)',
        response: withProblems({
          200: { type: 'object', required: ['kid'], properties: { kid: { type: 'string' } } },
        }),
      }),
    },
    async (req) => {
      const kid = await ctx.keys.rotate(true);
      req.log.info({ kid, by: identityOf(req).userId }, 'signing key rotated by admin');
      return { kid };
    },
  );
}

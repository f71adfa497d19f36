/** Registration, the user list, profiles, and the admin's role / tenant changes. */

import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { authenticate, identityOf, maybeIdentityOf } from './auth.ts';
import type { Role } from './client.ts';
import { nowDate, type UsersContext } from './context.ts';
import { checkPassword, loginClientOf } from './credentials.ts';
import { registeredSubject, type UserRegisteredMessage } from './events.ts';
import { decodeCursor, page } from './pagination.ts';
import { passwordPolicyViolation } from './passwords.ts';
import { canActFor } from './policy.ts';
import { conflict, fieldError, forbidden, invalidField, notFound, problem } from './problems.ts';
import {
  type AdminUserPatch,
  adminUserPatch,
  idParam,
  type ProfilePatch,
  profilePatch,
  type RegisterBody,
  registerBody,
  registerResponse,
  route,
  type UsersQuery,
  userPage,
  userSchema,
  usersQuery,
  withProblems,
} from './schemas.ts';
import {
  brokerageById,
  insertUser,
  listUsers,
  takenLogins,
  updateProfile,
  updateRoleAndTenant,
  userById,
  userView,
} from './store.ts';

/** 403 naming the field: joining a brokerage on one's own needs a valid invite from it. */
const inviteRequired = (message: string) =>
  problem(403, 'invite-required', 'Invite required', `body/invite_code ${message}`, {
    errors: [{ in: 'body', field: 'invite_code', pointer: '/invite_code', detail: message }],
  });

/** Names that would let a self-registered user pass for the platform; an admin may still use them. */
const RESERVED_USERNAMES: ReadonlySet<string> = new Set([
  'admin',
  'administrator',
  'root',
  'system',
  'bourse',
  'support',
  'security',
  'internal',
]);

export async function usersRoutes(app: FastifyInstance, ctx: UsersContext): Promise<void> {
  const any = authenticate(ctx.auth, 'any');
  const session = authenticate(ctx.auth, 'session');

  app.post<{ Body: RegisterBody }>(
    '/users',
    {
      onRequest: authenticate(ctx.auth, 'optional'),
      schema: route({
        summary: 'Register a user (self-registration, or a broker/admin creating one)',
        body: registerBody,
        response: withProblems({ 201: registerResponse }),
      }),
    },
    async (req, reply) => {
      const actor = maybeIdentityOf(req);
      const body = req.body;
      const isAdmin = actor?.role === 'admin';
      if (body.role !== undefined && body.role !== 'investor' && !isAdmin) {
        throw forbidden('Only an admin may create brokers and admins');
      }
      const role: Role = body.role ?? 'investor';
      if (!isAdmin && RESERVED_USERNAMES.has(body.username.toLowerCase())) {
        throw invalidField('body', 'username', 'is reserved');
      }
      let brokerageId: string | null;
      // joining a brokerage on one's own needs its invite; brokers and admins place users directly
      let invite: string | null = null;
      if (actor?.role === 'broker') {
        // a broker signs up clients into their own brokerage, never another
        if (body.brokerage_id !== undefined && body.brokerage_id !== actor.brokerageId) {
          throw forbidden('A broker creates users in their own brokerage only');
        }
        brokerageId = actor.brokerageId;
      } else if (isAdmin && role === 'admin') {
        brokerageId = body.brokerage_id ?? null;
      } else {
        brokerageId = body.brokerage_id ?? ctx.config.defaultBrokerageId;
        if (!isAdmin && body.invite_code !== undefined && body.brokerage_id === undefined) {
          throw invalidField('body', 'brokerage_id', 'is required with an invite_code');
        }
        if (!isAdmin && brokerageId !== ctx.config.defaultBrokerageId) invite = body.invite_code ?? '';
      }
      if (brokerageId !== null && !(await brokerageById(ctx.db, brokerageId))) {
        throw invalidField('body', 'brokerage_id', 'is not a brokerage');
      }
      if (invite === '') throw inviteRequired('is required to join this brokerage');
      const weak = passwordPolicyViolation(body.password, { username: body.username, email: body.email });
      if (weak) throw invalidField('body', 'password', weak);
      const taken = await takenLogins(ctx.db, body.username, body.email);
      if (taken === 'username') throw conflict('username-taken', 'username is already taken', 'username');
      if (taken === 'email') throw conflict('email-taken', 'email is already registered', 'email');
      const passwordHash = await ctx.hasher.hash(body.password);
      const row = await ctx.db.transaction(async (tx) => {
        const inserted = await insertUser(tx, {
          id: randomUUID(),
          username: body.username,
          email: body.email,
          passwordHash,
          role,
          brokerageId,
          now: nowDate(ctx),
        });
        // used up with the registration, or not at all
        if (invite !== null && !(await ctx.invites.consume(tx, brokerageId!, invite, inserted.id))) {
          throw inviteRequired('is unknown, expired, already used or for another brokerage');
        }
        return inserted;
      });
      req.log.info({ userId: row.id, role, by: actor?.userId }, 'user registered');
      const event: UserRegisteredMessage = { userId: row.id, username: row.username, role, brokerageId };
      // after the commit: a lost publish loses only the welcome side effects, never the user
      ctx.bus.publish(registeredSubject(row.id), event).catch((err: unknown) => {
        req.log.warn({ err, userId: row.id }, 'users: publish of registration failed');
      });
      return reply.code(201).send({ id: row.id, username: row.username, email: row.email });
    },
  );

  app.get<{ Querystring: UsersQuery }>(
    '/users',
    {
      onRequest: any,
      schema: route({
        summary: "List users: an admin sees all, a broker their brokerage's clients",
        querystring: usersQuery,
        response: withProblems({ 200: userPage }),
      }),
    },
    async (req) => {
      const actor = identityOf(req);
      const q = req.query;
      const after = decodeCursor(q.cursor);
      let filter: { brokerageId?: string | undefined; role?: Role | undefined };
      if (actor.role === 'admin') {
        filter = { brokerageId: q.brokerage_id, role: q.role };
      } else if (actor.role === 'broker' && actor.brokerageId) {
        if (q.brokerage_id !== undefined && q.brokerage_id !== actor.brokerageId) {
          throw forbidden('A broker sees their own brokerage only');
        }
        if (q.role !== undefined && q.role !== 'investor') return { users: [], next_cursor: null };
        filter = { brokerageId: actor.brokerageId, role: 'investor' };
      } else {
        throw forbidden('Investors cannot list users');
      }
      const rows = await listUsers(ctx.db, { ...filter, afterSeq: after, limit: q.limit });
      const p = page(rows, q.limit);
      return { users: p.rows.map(userView), next_cursor: p.next };
    },
  );

  app.get(
    '/users/me',
    {
      onRequest: any,
      schema: route({ summary: 'Your profile', response: withProblems({ 200: userSchema }) }),
    },
    async (req) => {
      const user = await userById(ctx.db, identityOf(req).userId);
      if (!user) throw notFound('User');
      return userView(user);
    },
  );

  app.patch<{ Body: ProfilePatch }>(
    '/users/me',
    {
      onRequest: session,
      schema: route({
        summary: 'Change your email, display name or password (email and password need current_password)',
        body: profilePatch,
        response: withProblems({ 200: userSchema }),
      }),
    },
    async (req) => {
      const actor = identityOf(req);
      const body = req.body;
      const user = await userById(ctx.db, actor.userId);
      if (!user) throw notFound('User');
      const sensitive = body.email !== undefined || body.password !== undefined;
      if (sensitive && body.current_password === undefined) {
        throw invalidField('body', 'current_password', 'is required to change the email or the password');
      }
      if (body.password !== undefined) {
        const weak = passwordPolicyViolation(body.password, {
          username: user.username,
          email: body.email ?? user.email,
        });
        if (weak) throw invalidField('body', 'password', weak);
      }
      if (body.current_password !== undefined) {
        const ok = await checkPassword(
          ctx,
          user,
          user.username,
          body.current_password,
          loginClientOf(ctx, req, user),
        );
        if (!ok) {
          throw problem(403, 'wrong-password', 'Wrong password', 'current_password is not your password', {
            errors: [fieldError('body', 'current_password', 'is not your password')],
          });
        }
      }
      const passwordHash = body.password === undefined ? undefined : await ctx.hasher.hash(body.password);
      const updated = await ctx.db.transaction(async (tx) => {
        const row = await updateProfile(tx, user.id, {
          email: body.email,
          displayName: body.display_name,
          passwordHash,
          now: nowDate(ctx),
        });
        // a new password ends every other login: whoever knew the old one is out
        if (passwordHash !== undefined)
          await ctx.sessions.revokeAll(tx, user.id, 'password_changed', actor.credentialId);
        return row;
      });
      if (!updated) throw notFound('User');
      if (passwordHash !== undefined)
        req.log.info({ userId: user.id }, 'password changed; other sessions revoked');
      return userView(updated);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/users/:id',
    {
      onRequest: any,
      schema: route({
        summary: 'A user you may see',
        params: idParam,
        response: withProblems({ 200: userSchema }),
      }),
    },
    async (req) => {
      const user = await userById(ctx.db, req.params.id);
      if (!user || !canActFor(identityOf(req), user)) throw notFound('User');
      return userView(user);
    },
  );

  app.patch<{ Params: { id: string }; Body: AdminUserPatch }>(
    '/users/:id',
    {
      onRequest: authenticate(ctx.auth, 'session', ['admin']),
      schema: route({
        summary: "Admin: change a user's role or brokerage (ends the user's sessions)",
        params: idParam,
        body: adminUserPatch,
        response: withProblems({ 200: userSchema }),
      }),
    },
    async (req) => {
      const body = req.body;
      const user = await userById(ctx.db, req.params.id);
      if (!user) throw notFound('User');
      const role = body.role ?? user.role;
      const brokerageId = body.brokerage_id !== undefined ? body.brokerage_id : user.brokerage_id;
      if (role !== 'admin' && brokerageId === null) {
        throw invalidField('body', 'brokerage_id', `is required for the role ${role}`);
      }
      if (brokerageId !== null && !(await brokerageById(ctx.db, brokerageId))) {
        throw invalidField('body', 'brokerage_id', 'is not a brokerage');
      }
      const updated = await ctx.db.transaction(async (tx) => {
        if (user.role === 'admin' && role !== 'admin') {
          // never lock the platform out of its own administration
          await tx.query("SELECT id FROM users WHERE role = 'admin' FOR UPDATE");
          const others = await tx.query("SELECT 1 FROM users WHERE role = 'admin' AND id <> $1", [user.id]);
          if (others.rows.length === 0)
            throw conflict('last-admin', 'the last admin cannot lose the role', 'role');
        }
        const row = await updateRoleAndTenant(tx, user.id, role, brokerageId, nowDate(ctx));
        // tokens carry role and brokerage: end them so that none outlives the change
        if (role !== user.role || brokerageId !== user.brokerage_id) {
          await ctx.sessions.revokeAll(tx, user.id, 'role_changed');
        }
        return row;
      });
      if (!updated) throw notFound('User');
      req.log.info(
        { userId: user.id, role, brokerageId, by: identityOf(req).userId },
        'user role/tenant changed',
      );
      return userView(updated);
    },
  );
}

/**
 * `GET /notifications/stream`: live notifications over a WebSocket.
 *
 * Authentication, either
 * - on the upgrade request: `Authorization: Bearer <access token>` (or the API key headers); bad
 *   credentials are refused with a 401 before the upgrade; or
 * - for browsers, which cannot set headers on a WebSocket: first message
 *   `{"type":"auth","access_token":"..."}` within 10 s. Never in the URL, where proxies and access
 *   logs would keep it.
 *
 * Server messages: `{"type":"ready"}` once authenticated, then `{"type":"notification",
 * "notification":{...}}`. A socket authenticated by an access token is closed (4401) when that
 * token expires: the client reconnects with a fresh one, so a revoked session stops receiving
 * within one token lifetime.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { authenticate, maybeIdentityOf } from './auth.ts';
import type { VerifiedIdentity } from './client.ts';
import type { UsersContext } from './context.ts';
import { problem } from './problems.ts';
import { route, withProblems } from './schemas.ts';

const AUTH_TIMEOUT_MS = 10_000;
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_AUTH_TIMEOUT = 4408;
export const CLOSE_TOO_MANY = 4429;

function parseAuthMessage(data: unknown): string | null {
  try {
    const m = JSON.parse(String(data)) as unknown;
    if (typeof m !== 'object' || m === null) return null;
    const { type, access_token } = m as Record<string, unknown>;
    return type === 'auth' && typeof access_token === 'string' && access_token.length <= 4096
      ? access_token
      : null;
  } catch {
    return null;
  }
}

export async function streamRoutes(app: FastifyInstance, ctx: UsersContext): Promise<void> {
  function attach(socket: WebSocket, id: VerifiedIdentity, expiresAtSec: number | null): void {
    if (!ctx.hub.add(id.userId, socket)) {
      socket.close(CLOSE_TOO_MANY, 'too many notification streams');
      return;
    }
    let expiry: NodeJS.Timeout | undefined;
    if (expiresAtSec !== null) {
      expiry = setTimeout(
        () => socket.close(CLOSE_UNAUTHORIZED, 'token expired'),
        Math.max(0, expiresAtSec * 1000 - ctx.clock.now()),
      );
      expiry.unref();
    }
    socket.on('close', () => {
      clearTimeout(expiry);
      ctx.hub.remove(id.userId, socket);
    });
    socket.send(JSON.stringify({ type: 'ready' }));
  }

  async function expiryOf(req: FastifyRequest | null, token: string | null): Promise<number | null> {
    const t = token ?? /^Bearer +(\S+)/i.exec(req?.headers.authorization ?? '')?.[1];
    if (!t) return null;
    return (await ctx.tokens.verify(t))?.expiresAt ?? null;
  }

  async function authenticateByMessage(socket: WebSocket, data: unknown): Promise<void> {
    const token = parseAuthMessage(data);
    const who = token ? await ctx.auth.fromAccessToken(token) : null;
    if (!who || socket.readyState !== socket.OPEN) {
      socket.close(CLOSE_UNAUTHORIZED, 'unauthorized');
      return;
    }
    attach(socket, who, await expiryOf(null, token));
  }

  app.route({
    method: 'GET',
    url: '/notifications/stream',
    onRequest: authenticate(ctx.auth, 'optional'),
    schema: route({
      summary: 'Live notifications over WebSocket (upgrade required)',
      response: withProblems({}),
    }),
    handler: async () => {
      throw problem(426, 'upgrade-required', 'Upgrade required', 'Connect with a WebSocket');
    },
    wsHandler: async (socket, req) => {
      const id = maybeIdentityOf(req);
      if (id) {
        attach(socket, id, id.method === 'access_token' ? await expiryOf(req, null) : null);
        return;
      }
      let done = false;
      const timer = setTimeout(() => {
        if (!done) socket.close(CLOSE_AUTH_TIMEOUT, 'authentication timeout');
      }, AUTH_TIMEOUT_MS);
      timer.unref();
      socket.once('message', (data) => {
        done = true;
        clearTimeout(timer);
        authenticateByMessage(socket, data).catch((err: unknown) => {
          req.log.warn({ err }, 'notification stream authentication failed');
          socket.close(CLOSE_UNAUTHORIZED, 'unauthorized');
        });
      });
    },
  });
}

/**
 * The web trading terminal (web/, built by Vite to web/dist), served by the gateway at `/`.
 *
 * - `/assets/*`: content-hashed files, cached for a year (immutable); no auth, no rate limit.
 * - Any other GET that a browser navigates to (Accept: text/html) and that no API route claims —
 *   `/`, `/trade`, `/portfolio`, `/broker`, `/operator`… — gets index.html (no-cache), so the
 *   client-side router handles it. API routes always win: they are registered with more specific
 *   paths, and an unknown API path (`/v2/…`, `/users/…`, JSON clients) still gets the problem+json 404.
 * - Without a build (`web/dist/index.html` missing), `/` answers a short page saying how to build.
 *
 * Call it before `app.ready()`, once, on the gateway's root instance.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EdgeRouteConfig } from './context.ts';

export interface WebOptions {
  /** the built terminal: web/dist */
  root: string;
}

/** Paths that belong to the API: a miss there is an API 404, never the terminal's page. */
const API_PREFIXES = [
  '/v1/',
  '/v2/',
  '/market-data',
  '/users',
  '/auth/',
  '/api-keys',
  '/brokerages',
  '/notifications',
  '/alerts',
  '/.well-known/',
  '/internal/',
  '/docs',
  '/openapi',
  '/metrics',
  '/healthz',
  '/readyz',
];

const STATIC: EdgeRouteConfig = { auth: 'none', rateClass: false };
const YEAR_MS = 365 * 24 * 3600 * 1000;

/** What a browser may load for the terminal: itself, its API (same origin) and its WebSockets. */
const CSP = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "script-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bourse</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>Bourse</h1>
<p>The web terminal is not built yet. Build it with</p>
<pre><code>npm run build:web</code></pre>
<p>and reload this page (<code>npm start</code> builds it when it is missing or out of date).
Meanwhile the API is up: see <a href="/docs">/docs</a>.</p>
</body></html>
`;

function isNavigation(req: FastifyRequest): boolean {
  const path = req.url.split('?')[0] ?? '/';
  if (API_PREFIXES.some((p) => path === p.replace(/\/$/, '') || path.startsWith(p))) return false;
  // a file name with an extension that is not in dist is a plain 404, not the app
  if (/\.[A-Za-z0-9]{1,8}$/.test(path)) return false;
  return String(req.headers.accept ?? '').includes('text/html');
}

function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('cache-control', 'no-cache')
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

export async function registerWeb(app: FastifyInstance, opts: WebOptions): Promise<void> {
  const built = existsSync(join(opts.root, 'index.html'));
  await app.register(async (scope) => {
    if (!built) {
      scope.get('/', { config: STATIC, schema: { hide: true } }, (_req, reply) =>
        pageHeaders(reply).type('text/html; charset=utf-8').send(NOT_BUILT),
      );
      return;
    }
    await scope.register(fastifyStatic, {
      root: opts.root,
      serve: false,
      decorateReply: true,
    });
    const index = (_req: FastifyRequest, reply: FastifyReply) =>
      pageHeaders(reply).sendFile('index.html', { cacheControl: false });

    scope.get('/', { config: STATIC, schema: { hide: true } }, index);
    scope.get<{ Params: { '*': string } }>(
      '/assets/*',
      { config: STATIC, schema: { hide: true } },
      (req, reply) => {
        const file = req.params['*'];
        // send refuses traversal itself; this keeps odd names out of the file system calls
        if (!/^[A-Za-z0-9._-]+$/.test(file) || !existsSync(join(opts.root, 'assets', file))) {
          return reply.callNotFound();
        }
        return reply
          .header('x-content-type-options', 'nosniff')
          .sendFile(`assets/${file}`, { maxAge: YEAR_MS, immutable: true });
      },
    );
    // the SPA fallback: a catch-all that only answers page navigations
    scope.get('/*', { config: STATIC, schema: { hide: true } }, (req, reply) =>
      isNavigation(req) ? index(req, reply) : reply.callNotFound(),
    );
  });
}

/**
 * registerWeb (src/gateway/web.ts) on a bare Fastify with the gateway's kind of 404 handler and
 * API routes: the built terminal and its SPA fallback, the caching headers, API precedence, and
 * the "not built" page. No browser needed.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { registerWeb } from '../../src/gateway/web.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function app(root: string): Promise<FastifyInstance> {
  const a = Fastify();
  a.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .type('application/problem+json')
      .send({ status: 404, detail: `no route ${req.url}` }),
  );
  a.get('/v2/account', async () => ({ id: 'x' }));
  a.get('/users/*', async () => ({ proxied: true }));
  await registerWeb(a, { root });
  await a.ready();
  return a;
}

describe('registerWeb', () => {
  it('serves the build: index.html uncached for client routes, hashed assets cached for a year', async () => {
    const root = await mkdtemp(join(tmpdir(), 'bourse-web-'));
    dirs.push(root);
    await mkdir(join(root, 'assets'));
    await writeFile(join(root, 'index.html'), '<!doctype html><div id="root"></div>');
    await writeFile(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    const a = await app(root);
    const html = { accept: 'text/html,application/xhtml+xml' };

    for (const url of ['/', '/trade', '/portfolio?x=1', '/broker/clients']) {
      const res = await a.inject({ url, headers: html });
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toContain('id="root"');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    }
    const js = await a.inject({ url: '/assets/index-abc123.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-type']).toContain('javascript');

    // API routes win; API misses, missing assets and non-HTML clients get the 404 problem
    expect((await a.inject({ url: '/v2/account', headers: html })).json()).toEqual({ id: 'x' });
    expect((await a.inject({ url: '/users/me', headers: html })).json()).toEqual({ proxied: true });
    for (const [url, headers] of [
      ['/v2/nope', html],
      ['/v1/reports/x', html],
      ['/market-data/x', html],
      ['/assets/missing.js', html],
      ['/assets/../index.html', html],
      ['/favicon.ico', html],
      ['/trade', { accept: 'application/json' }],
    ] as const) {
      const res = await a.inject({ url, headers });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type'], url).toContain('problem+json');
    }
    expect((await a.inject({ method: 'POST', url: '/trade', headers: html })).statusCode).toBe(404);
    await a.close();
  });

  it('says how to build the terminal when web/dist is missing', async () => {
    const a = await app(join(tmpdir(), 'bourse-web-does-not-exist'));
    const res = await a.inject({ url: '/', headers: { accept: 'text/html' } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('npm run build:web');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect((await a.inject({ url: '/v2/account' })).statusCode).toBe(200);
    await a.close();
  });
});

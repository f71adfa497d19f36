/**
 * The gateway's balancer with instances that name their role (upstream/health.ts, upstream.ts):
 * two real HTTP servers that answer as an orders leader or standby would (the role header on
 * /healthz and on a standby's 503), their roles switched by the test.
 *
 *   - a standby is out of the rotation after one probe, and gets no request;
 *   - a request that meets a standby (the roles changed since the last probe) goes on to the
 *     leader, and the standby's breaker stays closed;
 *   - with no leader (a takeover under way) a call waits, probing, and goes through as soon as
 *     one leads; with none for `leaderWaitMs` it fails as unavailable (nothing executed).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, expect, it, vi } from 'vitest';
import { resolveGatewayConfig } from '../../src/gateway/config.ts';
import {
  createUpstream,
  type Upstream,
  UpstreamUnavailable,
} from '../../src/platform/http/upstream/upstream.ts';
import { ROLE_HEADER } from '../../src/services/orders/client.ts';
import { logger } from './stack.ts';

type Role = 'leader' | 'standby' | 'fenced' | 'down';

interface Instance {
  app: FastifyInstance;
  url: string;
  role: Role;
  /** requests other than probes */
  served: number;
}

const instances: Instance[] = [];
const upstreams: Upstream[] = [];
afterEach(async () => {
  for (const u of upstreams.splice(0)) await u.close();
  for (const i of instances.splice(0)) await i.app.close();
});

async function instance(role: Role): Promise<Instance> {
  const app = Fastify({ logger: false });
  const self: Instance = { app, url: '', role, served: 0 };
  const answer = (reply: import('fastify').FastifyReply, ok: () => unknown) => {
    if (self.role === 'down') return reply.code(500).send({ status: 'broken' });
    reply.header(ROLE_HEADER, self.role);
    if (self.role !== 'leader') return reply.code(503).send({ type: 'not-leader', role: self.role });
    return ok();
  };
  app.get('/healthz', async (_req, reply) =>
    self.role === 'standby'
      ? reply.header(ROLE_HEADER, 'standby').send({ status: 'ok' })
      : answer(reply, () => ({ status: 'ok' })),
  );
  app.post('/work', async (_req, reply) => {
    self.served++;
    return answer(reply, () => ({ done: self.url }));
  });
  self.url = await app.listen({ port: 0, host: '127.0.0.1' });
  instances.push(self);
  return self;
}

function upstream(urls: string[], leaderWaitMs = 5_000): Upstream {
  const config = resolveGatewayConfig({ healthIntervalMs: 60_000, retryBaseMs: 5, leaderWaitMs });
  const u = createUpstream('orders', urls, config, logger, {}, undefined, ROLE_HEADER);
  upstreams.push(u);
  return u;
}

const work = (u: Upstream, retry = false) =>
  u.send(
    { requestId: 't', retry },
    { method: 'POST', path: '/work', headers: { 'content-type': 'application/json' }, body: '{}' },
  );

it('keeps a standby out of the rotation after one probe: every request goes to the leader', async () => {
  const standby = await instance('standby');
  const leader = await instance('leader');
  const u = upstream([standby.url, leader.url]);
  await u.checkHealth();
  expect(u.instances()).toMatchObject([
    { url: standby.url, healthy: false, role: 'standby' },
    { url: leader.url, healthy: true, role: 'leader' },
  ]);
  for (let i = 0; i < 10; i++) expect((await work(u)).status).toBe(200);
  expect(standby.served).toBe(0);
  expect(leader.served).toBe(10);
});

it('sends a request that met a standby on to the leader, any request, and keeps the standby’s breaker closed', async () => {
  const a = await instance('leader');
  const b = await instance('standby');
  const u = upstream([a.url, b.url]);
  await u.checkHealth();
  // the roles swap behind the balancer's back (a takeover it has not probed yet)
  a.role = 'fenced';
  b.role = 'leader';
  for (let i = 0; i < 10; i++) {
    const res = await work(u); // not retriable: fine, the fenced one executed nothing
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ done: b.url });
  }
  expect(a.served).toBe(1); // once: then it was out
  // the probes that the fenced answer set off settle on their own: the view follows them
  await vi.waitFor(
    () => {
      const view = Object.fromEntries(u.instances().map((i) => [i.url, i]));
      expect(view[a.url]).toMatchObject({ healthy: false, role: 'fenced', breaker: 'closed' });
      expect(view[b.url]).toMatchObject({ healthy: true, role: 'leader', breaker: 'closed' });
    },
    { timeout: 5_000, interval: 20 },
  );
});

it('waits for a takeover, probing, and goes through once an instance leads', async () => {
  const a = await instance('fenced');
  const b = await instance('standby');
  const u = upstream([a.url, b.url]);
  await u.checkHealth();
  const started = performance.now();
  const pending = work(u);
  setTimeout(() => {
    b.role = 'leader';
  }, 300);
  const res = await pending;
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body.toString())).toEqual({ done: b.url });
  console.log(
    `request answered ${(performance.now() - started).toFixed(0)} ms after it came, the takeover at 300 ms`,
  );
  expect(u.instances().find((i) => i.url === b.url)).toMatchObject({ healthy: true, role: 'leader' });
});

it('gives up after leaderWaitMs without a leader: unavailable, nothing executed', async () => {
  const a = await instance('standby');
  const b = await instance('standby');
  const u = upstream([a.url, b.url], 300);
  const err = await work(u).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamUnavailable);
  expect((err as UpstreamUnavailable).maybeExecuted).toBe(false);
});

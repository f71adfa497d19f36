/**
 * An orders instance that takes requests and never answers them: the gateway says it is not ready
 * once every connection to it is taken, and its close() (SIGTERM) finishes at the shutdown deadline
 * whatever is still waiting, answering those requests 503.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Gateway } from '../../src/gateway/index.ts';
import { makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWithPostgres } from '../support/services.ts';
import {
  bearer,
  eventually,
  expectProblem,
  INTERNAL_TOKEN,
  PASSWORD,
  type Services,
  startGateway,
  startServices,
  unique,
} from './stack.ts';

interface StuckServer {
  url: string;
  /** requests received and left unanswered */
  held(): number;
  stop(): Promise<void>;
}

/** Answers /healthz; holds every other request open without answering. */
async function startStuckServer(): Promise<StuckServer> {
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.setHeader('content-type', 'application/json');
      res.end('{"status":"ok"}');
      return;
    }
    held.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: () => held.length,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describeWithPostgres('gateway with an orders instance that never answers', () => {
  const makeDb = scoped(makePostgresDb);
  let services: Services;
  let stuck: StuckServer;
  let auth: Record<string, string>;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    services = await startServices(await makeDb());
    stuck = await startStuckServer();
    const gw = await startGateway(services);
    const username = unique('stuck');
    await gw.app.inject({
      method: 'POST',
      url: '/users',
      payload: { username, email: `${username}@example.com`, password: PASSWORD },
    });
    const login = await gw.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username, password: PASSWORD },
    });
    auth = bearer((login.json() as { access_token: string }).access_token);
    await gw.close();
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await stuck?.stop();
    await services?.close();
  });

  async function gatewayOnStuck(config: Record<string, number>): Promise<Gateway> {
    const gateway = await startGateway(services, {
      ordersUrls: [stuck.url],
      // the stuck instance must not be rescued by a timeout or a health check during the test
      config: { upstreamTimeoutMs: 600_000, healthIntervalMs: 600_000, ...config },
    });
    closers.push(() => gateway.close());
    return gateway;
  }

  it('is not ready while every connection to the only orders instance is taken', async () => {
    const gateway = await gatewayOnStuck({ upstreamConnections: 1, shutdownTimeoutMs: 100 });
    expect((await gateway.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const held = stuck.held();
    const waiting = [1, 2].map(() =>
      gateway.app.inject({ method: 'GET', url: '/v2/account', headers: auth }),
    );
    await eventually(async () => (stuck.held() > held ? true : undefined));
    const ready = await eventually(async () => {
      // the details (each instance's state) are for operators: the ops token unlocks them
      const res = await gateway.app.inject({
        method: 'GET',
        url: '/readyz',
        headers: { authorization: `Bearer ${INTERNAL_TOKEN}` },
      });
      return res.statusCode === 503 ? res : undefined;
    });
    const body = ready.json() as { status: string; upstreams: { orders: { exhausted: boolean }[] } };
    expect(body.status).toBe('unavailable');
    expect(body.upstreams.orders[0]?.exhausted).toBe(true);
    await gateway.close();
    for (const res of await Promise.all(waiting)) expectProblem(res, 503);
  });

  it('is not ready while the breaker of the only orders instance is open', async () => {
    // nothing listens there: every call fails to connect
    const gateway = await startGateway(services, {
      ordersUrls: ['http://127.0.0.1:1'],
      config: { healthIntervalMs: 600_000, breakerVolumeThreshold: 1, breakerResetMs: 600_000 },
    });
    closers.push(() => gateway.close());
    await eventually(async () => {
      await gateway.app.inject({ method: 'GET', url: '/v2/account', headers: auth });
      return gateway.upstreams.orders.instances()[0]?.breaker === 'open' ? true : undefined;
    });
    expect((await gateway.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
  });

  it('closes at the shutdown deadline, answering the request stuck on the instance 503 and ending streams', async () => {
    const gateway = await gatewayOnStuck({ shutdownTimeoutMs: 200 });
    const address = await gateway.app.listen({ port: 0, host: '127.0.0.1' });
    const held = stuck.held();
    const stuckRequest = fetch(`${address}/v2/account`, { headers: auth });
    await eventually(async () => (stuck.held() > held ? true : undefined));
    // a notifications stream, piped to the users service, that its reader never ends
    const stream = new WebSocket(`${address.replace(/^http/, 'ws')}/notifications/stream`, { headers: auth });
    await new Promise((resolve, reject) => stream.once('open', resolve).once('error', reject));
    const streamClosed = new Promise((resolve) => stream.once('close', resolve));

    await gateway.close();
    await streamClosed;
    const res = await stuckRequest;
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await res.json()) as { type: string }).type).toMatch(/\/unavailable$/);
  });
});

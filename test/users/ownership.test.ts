/**
 * Every route, another user: B (an investor of another brokerage, or a broker of another one)
 * reaching A's resources gets 404 (a specific resource) or 403 (an operation they may not do),
 * and A's resources are unchanged afterwards.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ExecMessage } from '../../src/services/orders/events.ts';
import { forEachDb } from '../support/db.ts';
import { eventually, expectProblem, type Harness, makeHarness, SETUP_MS, type TestUser } from './harness.ts';

forEachDb('users: every route refuses another user', (makeDb) => {
  let h: Harness;
  let a: TestUser;
  let b: TestUser;
  let brokerB: TestUser;
  let brokerageA: string;
  let brokerageB: string;
  let keyA: { id: string; secret: string };
  let alertA: string;
  let noteA: string;

  beforeAll(async () => {
    h = await makeHarness(await makeDb());
    brokerageA = await h.brokerage();
    brokerageB = await h.brokerage();
    a = await h.user({ brokerageId: brokerageA });
    b = await h.user({ brokerageId: brokerageB });
    brokerB = await h.user({ role: 'broker', brokerageId: brokerageB });
    keyA = (await h.req({ method: 'POST', url: '/api-keys', headers: a.auth, payload: {} })).json();
    alertA = (
      await h.req({
        method: 'POST',
        url: '/alerts',
        headers: a.auth,
        payload: { symbol: 'AAPL', condition: 'above', price: '999' },
      })
    ).json().id;
    const m: ExecMessage = {
      seq: 1,
      ts: 1,
      account: a.id,
      kind: 'expired',
      order: {
        id: 1,
        account: a.id,
        symbol: 'AAPL',
        side: 'buy',
        orderType: 'limit',
        tif: 'day',
        qty: 1,
        filledQty: 0,
        price: 100,
        stopPrice: 0,
        postOnly: false,
        status: 'expired',
        triggered: false,
        filledNotional: 0,
        fees: 0,
        createdAt: 1,
        updatedAt: 1,
        clientOrderId: null,
        rejectReason: null,
        cancelReason: null,
      },
    };
    await h.bus.publish(`orders.exec.${a.id}`, m);
    noteA = await eventually(async () => {
      const r = await h.req({ method: 'GET', url: '/notifications', headers: a.auth });
      return r.json().notifications[0]?.id as string | undefined;
    });
  }, SETUP_MS);
  afterAll(() => h.close());

  const as = (u: TestUser, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    h.req({ method, url, headers: u.auth, ...(payload ? { payload } : {}) });

  it('GET /users/:id and PATCH /users/:id', async () => {
    expectProblem(await as(b, 'GET', `/users/${a.id}`), 404);
    expectProblem(await as(brokerB, 'GET', `/users/${a.id}`), 404);
    expectProblem(await as(b, 'PATCH', `/users/${a.id}`, { role: 'broker' }), 403);
    expectProblem(await as(brokerB, 'PATCH', `/users/${a.id}`, { brokerage_id: brokerageB }), 403);
    expect((await as(a, 'GET', '/users/me')).json()).toMatchObject({
      role: 'investor',
      brokerage_id: brokerageA,
    });
  });

  it('GET /users, POST /users', async () => {
    expectProblem(await as(b, 'GET', '/users'), 403);
    expectProblem(await as(brokerB, 'GET', `/users?brokerage_id=${brokerageA}`), 403);
    expect((await as(brokerB, 'GET', '/users')).json().users.map((u: { id: string }) => u.id)).not.toContain(
      a.id,
    );
    expectProblem(
      await as(brokerB, 'POST', '/users', {
        username: 'intruder1',
        email: 'intruder1@example.com',
        password: 'correct horse battery staple',
        brokerage_id: brokerageA,
      }),
      403,
    );
  });

  it('GET/PATCH /users/me act on the caller only', async () => {
    expect((await as(b, 'PATCH', '/users/me', { display_name: 'B' })).json().id).toBe(b.id);
    expect((await as(a, 'GET', '/users/me')).json().display_name).toBeNull();
  });

  it('/auth/logout and /auth/logout-all end the caller’s sessions only; key rotation is admin-only', async () => {
    const b2 = (await h.login(b.username)).json();
    expect(
      (
        await h.req({
          method: 'POST',
          url: '/auth/logout-all',
          headers: { authorization: `Bearer ${b2.access_token}` },
        })
      ).statusCode,
    ).toBe(204);
    expect((await as(a, 'GET', '/users/me')).statusCode).toBe(200);
    expectProblem(await as(a, 'POST', '/auth/keys/rotate'), 403);
    b = await h.user({ brokerageId: brokerageB }); // the old b logged out everywhere
  });

  it('API keys: list, revoke', async () => {
    expect((await as(b, 'GET', '/api-keys')).json().api_keys).toEqual([]);
    expectProblem(await as(b, 'DELETE', `/api-keys/${keyA.id}`), 404);
    expect(await h.svc.client.verifyApiKey(keyA.id, keyA.secret)).not.toBeNull();
  });

  it('brokerages', async () => {
    expectProblem(await as(b, 'POST', '/brokerages', { name: 'Mine now' }), 403);
    expectProblem(await as(brokerB, 'GET', '/brokerages'), 403);
    expectProblem(await as(b, 'GET', `/brokerages/${brokerageA}`), 404);
    expectProblem(await as(brokerB, 'GET', `/brokerages/${brokerageA}`), 404);
  });

  it('notifications: list, mark read, read-all', async () => {
    expect(
      (await as(b, 'GET', '/notifications')).json().notifications.map((n: { id: string }) => n.id),
    ).not.toContain(noteA);
    expectProblem(await as(b, 'POST', `/notifications/${noteA}/read`), 404);
    expect((await as(b, 'POST', '/notifications/read-all')).statusCode).toBe(204);
    expect(
      (await as(a, 'GET', '/notifications?unread=true'))
        .json()
        .notifications.map((n: { id: string }) => n.id),
    ).toContain(noteA);
  });

  it('alerts: list, read, delete', async () => {
    expect((await as(b, 'GET', '/alerts')).json().alerts).toEqual([]);
    expectProblem(await as(b, 'GET', `/alerts/${alertA}`), 404);
    expectProblem(await as(brokerB, 'DELETE', `/alerts/${alertA}`), 404);
    expect((await as(a, 'GET', `/alerts/${alertA}`)).statusCode).toBe(200);
  });

  it('/internal routes: not for users at all', async () => {
    expectProblem(await as(a, 'GET', `/internal/users/${b.id}`), 401);
    expectProblem(await as(a, 'GET', '/internal/users'), 401);
    expectProblem(await as(a, 'POST', '/internal/verify', { access_token: b.access }), 401);
  });
});

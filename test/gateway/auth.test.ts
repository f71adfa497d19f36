/** Registration, login, tokens and API keys through the gateway, on PostgreSQL. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWithPostgres } from '../support/services.ts';
import { bearer, eventually, expectProblem, PASSWORD, type Stack, startStack, unique } from './stack.ts';

describeWithPostgres('authentication through the gateway', () => {
  const makeDb = scoped(makePostgresDb);
  let stack: Stack;
  beforeAll(async () => {
    // session checks trusted for 50 ms only, so that revocations show quickly
    stack = await startStack(await makeDb(), { config: { sessionCheckMs: 50, apiKeyCacheMs: 50 } });
  });
  afterAll(() => stack?.close());

  it('registers, logs in and reaches both services with the access token', async () => {
    const username = unique('reg');
    const reg = await stack.req({
      method: 'POST',
      url: '/users',
      payload: { username, email: `${username}@example.com`, password: PASSWORD },
    });
    expect(reg.statusCode, reg.body).toBe(201);
    expect(Object.keys(reg.json()).sort()).toEqual(['email', 'id', 'username']);
    expect(reg.headers['ratelimit-limit']).toBeDefined();

    const login = await stack.req({
      method: 'POST',
      url: '/auth/login',
      payload: { username, password: PASSWORD },
    });
    expect(login.statusCode).toBe(200);
    const { access_token, refresh_token } = login.json() as { access_token: string; refresh_token: string };
    expect(refresh_token).toMatch(/^brt_/);

    const me = await stack.req({ method: 'GET', url: '/users/me', headers: bearer(access_token) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ username });
    const account = await stack.req({ method: 'GET', url: '/v2/account', headers: bearer(access_token) });
    expect(account.statusCode, account.body).toBe(200);
    expect(account.json()).toMatchObject({ id: (reg.json() as { id: string }).id, cash: '0.00' });
    expect(account.headers['x-request-id']).toBeDefined();
  });

  it('refuses a wrong password, a forged or missing token, and wrong API keys', async () => {
    const user = await stack.user();
    expectProblem(
      await stack.req({
        method: 'POST',
        url: '/auth/login',
        payload: { username: user.username, password: 'nope nope nope' },
      }),
      401,
    );
    expectProblem(await stack.req({ method: 'GET', url: '/v2/account' }), 401);
    const forged = `${user.access.slice(0, -4)}AAAA`;
    expectProblem(await stack.req({ method: 'GET', url: '/v2/account', headers: bearer(forged) }), 401);
    expectProblem(
      await stack.req({ method: 'GET', url: '/v2/account', headers: { authorization: 'Basic x' } }),
      401,
    );
    const keys = await stack.apiKey(user);
    const wrong = { ...keys, 'apca-api-secret-key': 'x'.repeat(40) };
    expectProblem(await stack.req({ method: 'GET', url: '/v2/account', headers: wrong }), 401);
    expectProblem(
      await stack.req({
        method: 'GET',
        url: '/v2/account',
        headers: { 'apca-api-key-id': keys['apca-api-key-id']! },
      }),
      401,
    );
    const ok = await stack.req({ method: 'GET', url: '/v2/account', headers: keys });
    expect(ok.statusCode).toBe(200);
  });

  it('detects refresh token reuse: the whole session ends, at the gateway too', async () => {
    const user = await stack.user();
    const first = await stack.req({
      method: 'POST',
      url: '/auth/refresh',
      payload: { refresh_token: user.refresh },
    });
    expect(first.statusCode, first.body).toBe(200);
    const rotated = first.json() as { access_token: string; refresh_token: string };
    expect(
      (await stack.req({ method: 'GET', url: '/v2/account', headers: bearer(rotated.access_token) }))
        .statusCode,
    ).toBe(200);

    // the old refresh token again: reuse → 401, and the rotated one dies with its family
    expectProblem(
      await stack.req({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: user.refresh } }),
      401,
    );
    expectProblem(
      await stack.req({
        method: 'POST',
        url: '/auth/refresh',
        payload: { refresh_token: rotated.refresh_token },
      }),
      401,
    );
    // the access token of the ended session stops working once the gateway's session check lapses
    await eventually(async () => {
      const res = await stack.req({
        method: 'GET',
        url: '/v2/account',
        headers: bearer(rotated.access_token),
      });
      return res.statusCode === 401 ? res : undefined;
    });
  });

  it('ends access at logout, and a revoked API key stops working', async () => {
    const user = await stack.user();
    const keys = await stack.apiKey(user);
    expect((await stack.req({ method: 'GET', url: '/v2/account', headers: keys })).statusCode).toBe(200);
    const list = await stack.req({ method: 'GET', url: '/api-keys', headers: user.auth });
    const id = (list.json() as { api_keys: { id: string }[] }).api_keys[0]!.id;
    expect(id).toBe(keys['apca-api-key-id']);
    const revoke = await stack.req({ method: 'DELETE', url: `/api-keys/${id}`, headers: user.auth });
    expect(revoke.statusCode, revoke.body).toBeLessThan(300);
    await eventually(async () => {
      const res = await stack.req({ method: 'GET', url: '/v2/account', headers: keys });
      return res.statusCode === 401 ? res : undefined;
    });

    const out = await stack.req({ method: 'POST', url: '/auth/logout', headers: user.auth, payload: {} });
    expect(out.statusCode, out.body).toBeLessThan(300);
    await eventually(async () => {
      const res = await stack.req({ method: 'GET', url: '/v2/account', headers: user.auth });
      return res.statusCode === 401 ? res : undefined;
    });
  });

  it('never forwards /internal routes', async () => {
    const res = await stack.req({ method: 'POST', url: '/internal/verify', payload: { access_token: 'x' } });
    expectProblem(res, 404);
  });
});

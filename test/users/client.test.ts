/** The HTTP UsersClient against a listening service, and the guard on /internal routes. */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHttpUsersClient, type UsersClient } from '../../src/services/users/index.ts';
import { forEachDb } from '../support/db.ts';
import { expectProblem, type Harness, makeHarness, SETUP_MS, type TestUser } from './harness.ts';

forEachDb('users: HTTP client', (makeDb) => {
  let h: Harness;
  let http: UsersClient;
  let u: TestUser;
  let base: string;

  beforeAll(async () => {
    h = await makeHarness(await makeDb());
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    http = createHttpUsersClient({ baseUrl: base, internalToken: h.svc.internalToken });
    u = await h.user();
  }, SETUP_MS);
  afterAll(() => h.close());

  it('answers like the in-process client', async () => {
    const key = (await h.req({ method: 'POST', url: '/api-keys', headers: u.auth, payload: {} })).json();
    for (const c of [http, h.svc.client]) {
      expect(await c.verifyAccessToken(u.access)).toMatchObject({
        userId: u.id,
        username: u.username,
        role: 'investor',
        method: 'access_token',
      });
      expect(await c.verifyAccessToken('x.y.z')).toBeNull();
      expect(await c.verifyApiKey(key.id, key.secret)).toMatchObject({ userId: u.id, method: 'api_key' });
      expect(await c.verifyApiKey(key.id, 'A'.repeat(40))).toBeNull();
      expect(await c.getUser(u.id)).toMatchObject({ id: u.id, username: u.username });
      expect(await c.getUser('5f0e8a36-1b4c-4c55-9b0a-0d7f2d1e0a11')).toBeNull();
      const page = await c.listUsers({ limit: 200 });
      expect(page.users.map((x) => x.id)).toContain(u.id);
      expect(JSON.stringify(page)).not.toContain('argon2');
      const self = (await c.verifyAccessToken(u.access))!;
      expect(await c.canActFor(self, u.id)).toBe(true);
      expect((await c.jwks()).keys.length).toBeGreaterThan(0);
    }
  });

  it('/internal routes refuse callers without the internal token', async () => {
    const wrong = createHttpUsersClient({ baseUrl: base, internalToken: 'guess' });
    await expect(wrong.getUser(u.id)).rejects.toThrow(/refused the internal token \(401\)/);
    expectProblem(await h.req({ method: 'GET', url: `/internal/users/${u.id}` }), 401);
    expectProblem(
      await h.req({
        method: 'POST',
        url: '/internal/verify',
        headers: u.auth,
        payload: { access_token: u.access },
      }),
      401,
    );
    // an identity cannot be passed off as an admin's without the internal token
    expectProblem(
      await h.req({
        method: 'POST',
        url: '/internal/can-act-for',
        payload: {
          actor: { userId: u.id, role: 'admin', brokerageId: null, username: 'x' },
          target_user_id: u.id,
        },
      }),
      401,
    );
  });
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { forEachDb } from '../support/db.ts';
import { expectProblem, type Harness, makeHarness, SETUP_MS } from './harness.ts';

forEachDb('users: API keys', (makeDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(await makeDb());
  }, SETUP_MS);
  afterAll(() => h.close());

  const create = (auth: Record<string, string>, payload: object = { name: 'my bot' }) =>
    h.req({ method: 'POST', url: '/api-keys', headers: auth, payload });
  const apca = (id: string, secret: string) => ({ 'apca-api-key-id': id, 'apca-api-secret-key': secret });

  it('creates a key pair whose secret is shown once, then authenticates with the APCA headers', async () => {
    const u = await h.user();
    const res = await create(u.auth);
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const key = res.json();
    expect(key.id).toMatch(/^BK[A-Z2-7]{18}$/);
    expect(key.secret).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(key).toMatchObject({ name: 'my bot', revoked_at: null, last_used_at: null });

    const me = await h.req({ method: 'GET', url: '/users/me', headers: apca(key.id, key.secret) });
    expect(me.statusCode).toBe(200);
    expect(me.json().id).toBe(u.id);

    const list = await h.req({ method: 'GET', url: '/api-keys', headers: u.auth });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(key.secret);
    const listed = list.json().api_keys;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: key.id, name: 'my bot' });
    expect(listed[0].last_used_at).not.toBeNull();
    expect(listed[0]).not.toHaveProperty('secret');
  });

  it('stores only an HMAC of the secret', async () => {
    const u = await h.user();
    const key = (await create(u.auth)).json();
    const { rows } = await h.db.query<{ secret_hash: string }>(
      'SELECT secret_hash FROM api_keys WHERE id = $1',
      [key.id],
    );
    expect(rows[0]!.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.secret_hash).not.toContain(key.secret);
  });

  it('verifies through the client: right pair → identity, anything else → null', async () => {
    const u = await h.user();
    const key = (await create(u.auth)).json();
    expect(await h.svc.client.verifyApiKey(key.id, key.secret)).toMatchObject({
      userId: u.id,
      role: 'investor',
      username: u.username,
      method: 'api_key',
      credentialId: key.id,
    });
    expect(
      await h.svc.client.verifyApiKey(
        key.id,
        key.secret.replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A')),
      ),
    ).toBeNull();
    expect(await h.svc.client.verifyApiKey('BKAAAAAAAAAAAAAAAAAA', key.secret)).toBeNull();
    expect(await h.svc.client.verifyApiKey('x', 'y')).toBeNull();
  });

  it('a revoked key stops working at once', async () => {
    const u = await h.user();
    const key = (await create(u.auth)).json();
    expect((await h.req({ method: 'DELETE', url: `/api-keys/${key.id}`, headers: u.auth })).statusCode).toBe(
      204,
    );
    expectProblem(await h.req({ method: 'GET', url: '/users/me', headers: apca(key.id, key.secret) }), 401);
    expect(await h.svc.client.verifyApiKey(key.id, key.secret)).toBeNull();
    const listed = (await h.req({ method: 'GET', url: '/api-keys', headers: u.auth })).json().api_keys;
    expect(listed[0].revoked_at).not.toBeNull();
  });

  it("another user's key: DELETE is 404 and the key keeps working; the list never shows it", async () => {
    const a = await h.user();
    const b = await h.user();
    const key = (await create(a.auth)).json();
    expectProblem(await h.req({ method: 'DELETE', url: `/api-keys/${key.id}`, headers: b.auth }), 404);
    expect((await h.req({ method: 'GET', url: '/api-keys', headers: b.auth })).json().api_keys).toEqual([]);
    expect(await h.svc.client.verifyApiKey(key.id, key.secret)).not.toBeNull();
  });

  it('an API key cannot manage API keys, change the profile or log out sessions', async () => {
    const u = await h.user();
    const key = (await create(u.auth)).json();
    const headers = apca(key.id, key.secret);
    expectProblem(await h.req({ method: 'POST', url: '/api-keys', headers, payload: {} }), 403);
    expectProblem(await h.req({ method: 'DELETE', url: `/api-keys/${key.id}`, headers }), 403);
    expectProblem(
      await h.req({ method: 'PATCH', url: '/users/me', headers, payload: { display_name: 'x' } }),
      403,
    );
    expectProblem(await h.req({ method: 'POST', url: '/auth/logout-all', headers }), 403);
  });

  it('half a key pair, bad names and bad ids are refused', async () => {
    const u = await h.user();
    expectProblem(
      await h.req({
        method: 'GET',
        url: '/users/me',
        headers: { 'apca-api-key-id': 'BKAAAAAAAAAAAAAAAAAA' },
      }),
      401,
    );
    expectProblem(await create(u.auth, { name: '' }), 400, 'name');
    expectProblem(await create(u.auth, { name: 'a\u0000b' }), 400, 'name');
    expectProblem(await create(u.auth, { name: 'ok', admin: true }), 400, 'admin');
    expectProblem(await h.req({ method: 'DELETE', url: '/api-keys/not-a-key', headers: u.auth }), 400, 'id');
    expect((await create(u.auth, {})).statusCode).toBe(201);
  });

  it('lists with pagination', async () => {
    const u = await h.user();
    for (let i = 0; i < 3; i++) expect((await create(u.auth, { name: `k${i}` })).statusCode).toBe(201);
    const p1 = (await h.req({ method: 'GET', url: '/api-keys?limit=2', headers: u.auth })).json();
    expect(p1.api_keys.map((k: { name: string }) => k.name)).toEqual(['k0', 'k1']);
    expect(p1.next_cursor).toEqual(expect.any(String));
    const p2 = (
      await h.req({ method: 'GET', url: `/api-keys?limit=2&cursor=${p1.next_cursor}`, headers: u.auth })
    ).json();
    expect(p2.api_keys.map((k: { name: string }) => k.name)).toEqual(['k2']);
    expect(p2.next_cursor).toBeNull();
    expectProblem(
      await h.req({ method: 'GET', url: '/api-keys?cursor=bogus', headers: u.auth }),
      400,
      'cursor',
    );
    expectProblem(await h.req({ method: 'GET', url: '/api-keys?limit=0', headers: u.auth }), 400, 'limit');
  });
});

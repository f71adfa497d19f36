/** Roles and tenants: investors see themselves, brokers their brokerage's clients, admins all. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { forEachDb } from '../support/db.ts';
import { expectProblem, type Harness, makeHarness, SETUP_MS, type TestUser } from './harness.ts';

forEachDb('users: roles and tenants', (makeDb) => {
  let h: Harness;
  let b1: string;
  let b2: string;
  let broker1: TestUser;
  let broker2: TestUser;
  let inv1a: TestUser;
  let inv1b: TestUser;
  let inv2: TestUser;
  let admin: TestUser;

  beforeAll(async () => {
    h = await makeHarness(await makeDb());
    admin = await h.admin();
    b1 = await h.brokerage();
    b2 = await h.brokerage();
    broker1 = await h.user({ role: 'broker', brokerageId: b1 });
    broker2 = await h.user({ role: 'broker', brokerageId: b2 });
    inv1a = await h.user({ brokerageId: b1 });
    inv1b = await h.user({ brokerageId: b1 });
    inv2 = await h.user({ brokerageId: b2 });
  }, SETUP_MS);
  afterAll(() => h.close());

  const get = (url: string, who: TestUser) => h.req({ method: 'GET', url, headers: who.auth });
  const ids = (res: { json(): { users: { id: string }[] } }) => res.json().users.map((u) => u.id);

  it('GET /users: an investor is refused', async () => {
    expectProblem(await get('/users', inv1a), 403);
  });

  it("GET /users: a broker sees exactly their brokerage's investors", async () => {
    const res = await get('/users', broker1);
    expect(res.statusCode).toBe(200);
    expect(ids(res).sort()).toEqual([inv1a.id, inv1b.id].sort());
    expectProblem(await get(`/users?brokerage_id=${b2}`, broker1), 403);
    expect(ids(await get('/users?role=broker', broker1))).toEqual([]);
  });

  it('GET /users: an admin sees everyone, can filter, and pages with a cursor', async () => {
    const all = ids(await get('/users?limit=200', admin));
    expect(all).toEqual(
      expect.arrayContaining([admin.id, broker1.id, broker2.id, inv1a.id, inv1b.id, inv2.id]),
    );
    expect(ids(await get(`/users?brokerage_id=${b2}`, admin)).sort()).toEqual([broker2.id, inv2.id].sort());
    expect(ids(await get(`/users?brokerage_id=${b1}&role=broker`, admin))).toEqual([broker1.id]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`, admin);
      expect(res.statusCode).toBe(200);
      const page = res.json();
      expect(page.users.length).toBeLessThanOrEqual(2);
      seen.push(...page.users.map((u: { id: string }) => u.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all);
    expectProblem(await get('/users?limit=201', admin), 400, 'limit');
    expectProblem(await get('/users?role=king', admin), 400, 'role');
  });

  it('GET /users/:id: self, own broker and admin see; everyone else gets 404', async () => {
    expect((await get(`/users/${inv1a.id}`, inv1a)).statusCode).toBe(200);
    expect((await get(`/users/${inv1a.id}`, broker1)).statusCode).toBe(200);
    expect((await get(`/users/${inv1a.id}`, admin)).statusCode).toBe(200);
    expectProblem(await get(`/users/${inv1a.id}`, inv1b), 404);
    expectProblem(await get(`/users/${inv1a.id}`, broker2), 404);
    expectProblem(await get(`/users/${broker2.id}`, broker1), 404);
    expectProblem(await get(`/users/${admin.id}`, broker1), 404);
    expectProblem(await get('/users/not-a-uuid', admin), 400, 'id');
  });

  it('canActFor: a broker for their own investors only, an investor for themselves only', async () => {
    const c = h.svc.client;
    const id = (u: TestUser) => (async () => (await c.verifyAccessToken(u.access))!)();
    expect(await c.canActFor(await id(broker1), inv1a.id)).toBe(true);
    expect(await c.canActFor(await id(broker1), inv2.id)).toBe(false);
    expect(await c.canActFor(await id(broker1), broker2.id)).toBe(false);
    expect(await c.canActFor(await id(inv1a), inv1a.id)).toBe(true);
    expect(await c.canActFor(await id(inv1a), inv1b.id)).toBe(false);
    expect(await c.canActFor(await id(admin), inv2.id)).toBe(true);
    expect(await c.canActFor(await id(admin), '5f0e8a36-1b4c-4c55-9b0a-0d7f2d1e0a11')).toBe(false);
  });

  it('PATCH /users/:id: admin only; a role change ends the sessions of the user', async () => {
    const u = await h.user({ brokerageId: b1 });
    expectProblem(
      await h.req({
        method: 'PATCH',
        url: `/users/${u.id}`,
        headers: broker1.auth,
        payload: { role: 'broker' },
      }),
      403,
    );
    expectProblem(
      await h.req({ method: 'PATCH', url: `/users/${u.id}`, headers: u.auth, payload: { role: 'admin' } }),
      403,
    );
    const res = await h.req({
      method: 'PATCH',
      url: `/users/${u.id}`,
      headers: admin.auth,
      payload: { role: 'broker', brokerage_id: b2 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ role: 'broker', brokerage_id: b2 });
    expectProblem(await h.req({ method: 'GET', url: '/users/me', headers: u.auth }), 401);
    const again = (await h.login(u.username)).json();
    expect((await h.svc.client.verifyAccessToken(again.access_token))?.role).toBe('broker');
  });

  it('PATCH /users/:id: tenant rules and the last admin', async () => {
    const u = await h.user();
    const patch = (payload: object, who: TestUser = admin, id = u.id) =>
      h.req({ method: 'PATCH', url: `/users/${id}`, headers: who.auth, payload });
    expectProblem(await patch({ brokerage_id: null }), 400, 'brokerage_id');
    expectProblem(await patch({ brokerage_id: '5f0e8a36-1b4c-4c55-9b0a-0d7f2d1e0a11' }), 400, 'brokerage_id');
    expectProblem(await patch({}), 400);
    expectProblem(await patch({ role: 'root' }), 400, 'role');
    expectProblem(await patch({ role: 'investor' }, admin, '5f0e8a36-1b4c-4c55-9b0a-0d7f2d1e0a11'), 404);
    expectProblem(await patch({ role: 'investor', brokerage_id: b1 }, admin, admin.id), 409, 'role');
  });

  it('brokerages: admins create and list; members read their own; others get 403/404', async () => {
    expectProblem(
      await h.req({ method: 'POST', url: '/brokerages', headers: broker1.auth, payload: { name: 'X' } }),
      403,
    );
    expectProblem(
      await h.req({ method: 'POST', url: '/brokerages', headers: inv1a.auth, payload: { name: 'X' } }),
      403,
    );
    expectProblem(await get('/brokerages', broker1), 403);
    expectProblem(await get('/brokerages', inv1a), 403);
    const list = await get('/brokerages?limit=200', admin);
    expect(list.json().brokerages.map((b: { id: string }) => b.id)).toEqual(expect.arrayContaining([b1, b2]));
    expect((await get(`/brokerages/${b1}`, inv1a)).json().id).toBe(b1);
    expect((await get(`/brokerages/${b1}`, broker1)).statusCode).toBe(200);
    expectProblem(await get(`/brokerages/${b2}`, inv1a), 404);
    expectProblem(await get(`/brokerages/${b2}`, broker1), 404);
    expect((await get(`/brokerages/${b2}`, admin)).statusCode).toBe(200);
    const name = (await get(`/brokerages/${b1}`, admin)).json().name;
    expectProblem(
      await h.req({
        method: 'POST',
        url: '/brokerages',
        headers: admin.auth,
        payload: { name: name.toUpperCase() },
      }),
      409,
      'name',
    );
    expectProblem(
      await h.req({ method: 'POST', url: '/brokerages', headers: admin.auth, payload: { name: ' x' } }),
      400,
      'name',
    );
  });
});

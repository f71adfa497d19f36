import { afterAll, beforeAll, expect, it } from 'vitest';
import { forEachDb } from '../support/db.ts';
import { bearer, expectProblem, type Harness, makeHarness, PASSWORD, SETUP_MS, unique } from './harness.ts';

forEachDb('users: profile', (makeDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(await makeDb());
  }, SETUP_MS);
  afterAll(() => h.close());

  const patch = (auth: Record<string, string>, payload: unknown) =>
    h.req({ method: 'PATCH', url: '/users/me', headers: auth, payload: payload as object });

  it('GET /users/me shows the profile without secrets', async () => {
    const u = await h.user();
    const res = await h.req({ method: 'GET', url: '/users/me', headers: u.auth });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json()).sort()).toEqual(
      ['brokerage_id', 'created_at', 'display_name', 'email', 'id', 'role', 'username'].sort(),
    );
  });

  it('sets and clears the display name without the password', async () => {
    const u = await h.user();
    expect((await patch(u.auth, { display_name: 'Ada L.' })).json().display_name).toBe('Ada L.');
    expect((await patch(u.auth, { display_name: null })).json().display_name).toBeNull();
    expectProblem(await patch(u.auth, { display_name: 'bad\nname' }), 400, 'display_name');
    expectProblem(await patch(u.auth, { display_name: 'x'.repeat(65) }), 400, 'display_name');
    expectProblem(await patch(u.auth, {}), 400);
    expectProblem(await patch(u.auth, { role: 'admin' }), 400, 'role');
  });

  it('changing the email needs the current password', async () => {
    const u = await h.user();
    const email = `${unique('new')}@example.com`;
    expectProblem(await patch(u.auth, { email }), 400, 'current_password');
    expectProblem(
      await patch(u.auth, { email, current_password: 'wrong password!' }),
      403,
      'current_password',
    );
    const ok = await patch(u.auth, { email, current_password: PASSWORD });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().email).toBe(email);
    expect((await h.login(email)).statusCode).toBe(200);
    const other = await h.user();
    expectProblem(
      await patch(other.auth, { email: email.toUpperCase(), current_password: PASSWORD }),
      409,
      'email',
    );
  });

  it('a password change revokes the other sessions, keeps this one, and swaps the password', async () => {
    const u = await h.user();
    const other = (await h.login(u.username)).json();
    const next = 'a brand new pass phrase';
    expectProblem(await patch(u.auth, { password: next }), 400, 'current_password');
    expectProblem(await patch(u.auth, { password: 'short', current_password: PASSWORD }), 400, 'password');
    expectProblem(
      await patch(u.auth, { password: `${u.username} rocks!!`, current_password: PASSWORD }),
      400,
      'password',
    );
    const ok = await patch(u.auth, { password: next, current_password: PASSWORD });
    expect(ok.statusCode).toBe(200);
    expect((await h.req({ method: 'GET', url: '/users/me', headers: u.auth })).statusCode).toBe(200);
    expectProblem(await h.req({ method: 'GET', url: '/users/me', headers: bearer(other.access_token) }), 401);
    expectProblem(
      await h.req({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: other.refresh_token } }),
      401,
    );
    expectProblem(await h.login(u.username, PASSWORD), 401);
    expect((await h.login(u.username, next)).statusCode).toBe(200);
  });

  it('guessing the current password through PATCH is throttled like login', async () => {
    const u = await h.user();
    for (let i = 0; i < 5; i++) {
      expectProblem(await patch(u.auth, { email: 'x@example.com', current_password: `guess ${i}` }), 403);
    }
    expectProblem(await patch(u.auth, { email: 'x@example.com', current_password: PASSWORD }), 429);
  });

  it('unauthenticated profile access is 401', async () => {
    expectProblem(await h.req({ method: 'GET', url: '/users/me' }), 401);
    expectProblem(await h.req({ method: 'PATCH', url: '/users/me', payload: { display_name: 'x' } }), 401);
  });
});

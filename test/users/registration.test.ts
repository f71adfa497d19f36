import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BROKERAGE_ID } from '../../src/services/users/index.ts';
import { forEachDb } from '../support/db.ts';
import {
  bearer,
  countRows,
  expectProblem,
  type Harness,
  makeHarness,
  PASSWORD,
  SETUP_MS,
  unique,
} from './harness.ts';

forEachDb('users: registration', (makeDb) => {
  // one database per backend for the file (opening PGlite is the slow part); tests use unique names
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(await makeDb());
  }, SETUP_MS);
  afterAll(() => h.close());

  const users = () => countRows(h.db, 'users');
  const register = (payload: unknown, headers: Record<string, string> = {}) =>
    h.req({ method: 'POST', url: '/users', payload: payload as object, headers });
  const fresh = () => {
    const username = unique('r');
    return { username, email: `${username}@example.com`, password: PASSWORD };
  };
  async function meOf(username: string) {
    const res = await h.login(username);
    expect(res.statusCode).toBe(200);
    return (
      await h.req({ method: 'GET', url: '/users/me', headers: bearer(res.json().access_token) })
    ).json();
  }

  it('answers 201 with exactly username, email and id', async () => {
    const body = fresh();
    const res = await register(body);
    expect(res.statusCode).toBe(201);
    const answer = res.json();
    expect(Object.keys(answer).sort()).toEqual(['email', 'id', 'username']);
    expect(answer).toMatchObject({ username: body.username, email: body.email });
    expect(answer.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(res.body).not.toContain(PASSWORD);
    expect(res.body).not.toContain('argon2');
    expect(await meOf(body.username)).toMatchObject({ role: 'investor', brokerage_id: DEFAULT_BROKERAGE_ID });
  });

  it('stores an argon2id hash with the OWASP parameters, never the password', async () => {
    const body = fresh();
    const id = (await register(body)).json().id;
    const { rows } = await h.db.query<{ password_hash: string }>(
      'SELECT password_hash FROM users WHERE id = $1',
      [id],
    );
    expect(rows[0]!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(rows[0]!.password_hash).not.toContain(PASSWORD);
  });

  it('refuses a duplicate username or email, case-insensitively, with 409 naming the field', async () => {
    const body = fresh();
    expect((await register(body)).statusCode).toBe(201);
    const before = await users();
    expectProblem(await register({ ...fresh(), username: body.username.toUpperCase() }), 409, 'username');
    expectProblem(await register({ ...fresh(), email: body.email.toUpperCase() }), 409, 'email');
    expect(await users()).toBe(before);
  });

  it('two racing registrations of one name: one 201, one 409', async () => {
    const username = unique('race');
    const before = await users();
    const [a, b] = await Promise.all([
      register({ username, email: `${username}1@example.com`, password: PASSWORD }),
      register({ username, email: `${username}2@example.com`, password: PASSWORD }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([201, 409]);
    expect(await users()).toBe(before + 1);
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ['username too short', { username: 'ab' }, 'username'],
    ['username with @', { username: 'a@bc' }, 'username'],
    ['username with a space', { username: 'al ice' }, 'username'],
    ['username ending in a dot', { username: 'alice.' }, 'username'],
    ['username not ASCII', { username: 'аlice' }, 'username'],
    ['email without domain', { email: 'alice@' }, 'email'],
    ['email not a string', { email: 42 }, 'email'],
    ['password too short', { password: 'short pass' }, 'password'],
    ['password as a number', { password: 123456789012345 }, 'password'],
    ['password too long', { password: 'x1y2z3'.repeat(30) }, 'password'],
    [
      'password containing the username',
      { username: 'zebra99', password: 'my zebra99 is great' },
      'password',
    ],
    [
      'password containing the email',
      { email: 'quokka@example.com', password: 'x quokka@example.com' },
      'password',
    ],
    ['password with too few distinct characters', { password: 'abababababababab' }, 'password'],
    ['password with a lone surrogate', { password: 'valid pass \ud800 word' }, 'password'],
    ['unknown property', { nickname: 'al' }, 'nickname'],
    ['brokerage_id not a uuid', { brokerage_id: 'nope' }, 'brokerage_id'],
    ['unknown brokerage', { brokerage_id: '5f0e8a36-1b4c-4c55-9b0a-0d7f2d1e0a11' }, 'brokerage_id'],
  ];
  for (const [what, patch, field] of bad) {
    it(`400 naming the field, no state change: ${what}`, async () => {
      const before = await users();
      expectProblem(await register({ ...fresh(), ...patch }), 400, field);
      expect(await users()).toBe(before);
    });
  }

  for (const missing of ['username', 'email', 'password']) {
    it(`400 when ${missing} is missing`, async () => {
      const body: Record<string, unknown> = fresh();
      delete body[missing];
      expectProblem(await register(body), 400, missing);
    });
  }

  it('refuses non-JSON and malformed bodies with a problem', async () => {
    const before = await users();
    const raw = (type: string, payload: string) =>
      h.req({ method: 'POST', url: '/users', headers: { 'content-type': type }, payload });
    expectProblem(await raw('application/json', '{"username":'), 400);
    expectProblem(await raw('application/json', '{"__proto__":{"x":1}}'), 400);
    expectProblem(await raw('application/json', ''), 400);
    expectProblem(await raw('text/plain', 'hi'), 400);
    expectProblem(await raw('application/xml', '<a/>'), 415);
    expectProblem(await register([]), 400);
    expectProblem(await register(null), 400);
    expect(await users()).toBe(before);
  });

  it('an anonymous caller cannot choose a role (403), nor take a reserved name (400)', async () => {
    const before = await users();
    expectProblem(await register({ ...fresh(), role: 'admin' }), 403);
    expectProblem(await register({ ...fresh(), username: 'Admin' }), 400, 'username');
    expect(await users()).toBe(before);
  });

  const invite = (by: { auth: Record<string, string> }, brokerage: string, payload: object = {}) =>
    h.req({ method: 'POST', url: `/brokerages/${brokerage}/invites`, headers: by.auth, payload });

  it('self-registration into a brokerage needs its invite: 403 naming invite_code, nobody created', async () => {
    const b = await h.brokerage();
    const other = await h.brokerage();
    const broker = await h.user({ role: 'broker', brokerageId: b });
    const foreign = (await invite(await h.admin(), other)).json() as { code: string };
    const used = (await invite(broker, b)).json() as { code: string };
    expect((await register({ ...fresh(), brokerage_id: b, invite_code: used.code })).statusCode).toBe(201);
    const before = await users();
    for (const code of [undefined, 'made-up-code', used.code, foreign.code]) {
      const res = await register({
        ...fresh(),
        brokerage_id: b,
        ...(code !== undefined && { invite_code: code }),
      });
      expectProblem(res, 403, 'invite_code');
    }
    // the default brokerage stays open, and an invite names its brokerage
    expectProblem(await register({ ...fresh(), invite_code: foreign.code }), 400, 'brokerage_id');
    expect(await users()).toBe(before);
  });

  it('an invite is created by a broker of the brokerage or an admin, stored hashed, used once, and expires', async () => {
    const b = await h.brokerage();
    const other = await h.brokerage();
    const broker = await h.user({ role: 'broker', brokerageId: b });
    const investor = await h.user({ brokerageId: b });
    expectProblem(await invite(investor, b), 403);
    expectProblem(await invite(broker, other), 404);
    expectProblem(await invite(broker, b, { expires_in_hours: 0 }), 400, 'expires_in_hours');
    const res = await invite(broker, b, { expires_in_hours: 2 });
    expect(res.statusCode, res.body).toBe(201);
    const inv = res.json() as { code: string; brokerage_id: string; created_at: string; expires_at: string };
    expect(inv.brokerage_id).toBe(b);
    expect(Date.parse(inv.expires_at) - Date.parse(inv.created_at)).toBe(2 * 3_600_000);
    const { rows } = await h.db.query<{ code_hash: string }>(
      'SELECT code_hash FROM brokerage_invites WHERE brokerage_id = $1',
      [b],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.code_hash).not.toContain(inv.code);

    const joiner = fresh();
    expect((await register({ ...joiner, brokerage_id: b, invite_code: inv.code })).statusCode).toBe(201);
    expect((await meOf(joiner.username)).brokerage_id).toBe(b);
    expectProblem(await register({ ...fresh(), brokerage_id: b, invite_code: inv.code }), 403, 'invite_code');

    const late = (await invite(await h.admin(), b, { expires_in_hours: 1 })).json() as { code: string };
    const t0 = h.clock.now();
    h.clock.advance(3_600_000);
    try {
      expectProblem(
        await register({ ...fresh(), brokerage_id: b, invite_code: late.code }),
        403,
        'invite_code',
      );
    } finally {
      h.clock.set(t0); // the harness's admin and users keep their tokens
    }
    // refused for being late, not used up: before its expiry it still works
    expect((await register({ ...fresh(), brokerage_id: b, invite_code: late.code })).statusCode).toBe(201);
  });

  it('a broker registers clients into their own brokerage only, and cannot choose roles', async () => {
    const b1 = await h.brokerage();
    const b2 = await h.brokerage();
    const broker = await h.user({ role: 'broker', brokerageId: b1 });
    const ok = await register(fresh(), broker.auth);
    expect(ok.statusCode).toBe(201);
    const client = await h.req({ method: 'GET', url: `/users/${ok.json().id}`, headers: broker.auth });
    expect(client.json()).toMatchObject({ role: 'investor', brokerage_id: b1 });
    const before = await users();
    expectProblem(await register({ ...fresh(), brokerage_id: b2 }, broker.auth), 403);
    expectProblem(await register({ ...fresh(), role: 'broker' }, broker.auth), 403);
    expect(await users()).toBe(before);
  });

  it('an admin creates brokers and admins', async () => {
    const admin = await h.admin();
    const b = await h.brokerage();
    const res = await register({ ...fresh(), role: 'broker', brokerage_id: b }, admin.auth);
    expect(res.statusCode).toBe(201);
    const broker = await h.req({ method: 'GET', url: `/users/${res.json().id}`, headers: admin.auth });
    expect(broker.json()).toMatchObject({ role: 'broker', brokerage_id: b });
    const adm = await register({ ...fresh(), role: 'admin' }, admin.auth);
    expect(adm.statusCode).toBe(201);
    const second = await h.req({ method: 'GET', url: `/users/${adm.json().id}`, headers: admin.auth });
    expect(second.json()).toMatchObject({ role: 'admin', brokerage_id: null });
  });

  it('bad credentials are refused even where credentials are optional', async () => {
    const before = await users();
    expectProblem(await register(fresh(), { authorization: 'Bearer nope' }), 401);
    expectProblem(await register(fresh(), { authorization: 'Basic YTpi' }), 401);
    expect(await users()).toBe(before);
  });
});

describe('users: seeded data', () => {
  it('the default brokerage id is the seeded one', () => {
    expect(DEFAULT_BROKERAGE_ID).toBe('00000000-0000-4000-8000-000000000001');
  });
});

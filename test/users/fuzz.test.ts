/**
 * Schema fuzzing of the two anonymous entry points: random bodies, wrong types, huge strings,
 * unicode, malformed JSON. Always a 4xx problem+json, never a 5xx, never a new user or session.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { forEachDb } from '../support/db.ts';
import { countRows, type Harness, makeHarness, PASSWORD, SETUP_MS } from './harness.ts';

const anyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ minLength: 2000, maxLength: 20_000 }),
);
const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
);

const valid = { username: 'validname', email: 'valid@example.com', password: PASSWORD };
type Field = keyof typeof valid;
const fields: Field[] = ['username', 'email', 'password'];

/** A registration body that is wrong in at least one way. */
const badRegistration: fc.Arbitrary<unknown> = fc.oneof(
  // not an object at all
  fc.oneof(anyString, fc.integer(), fc.constant(null), fc.array(fc.jsonValue(), { maxLength: 3 })),
  // one field of the wrong type
  fc
    .record({ field: fc.constantFrom(...fields), value: wrongType })
    .map(({ field, value }) => ({ ...valid, [field]: value })),
  // one field that breaks its rule
  fc.oneof(
    anyString
      .filter((s) => !/^[A-Za-z0-9][A-Za-z0-9_.-]{1,30}[A-Za-z0-9]$/.test(s))
      .map((username) => ({ ...valid, username })),
    anyString.filter((s) => !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(s)).map((email) => ({ ...valid, email })),
    fc.string({ maxLength: 11 }).map((password) => ({ ...valid, password })),
    fc.string({ minLength: 129, maxLength: 5000 }).map((password) => ({ ...valid, password })),
  ),
  // a field missing
  fc.constantFrom(...fields).map((f) => {
    const b: Record<string, unknown> = { ...valid };
    delete b[f];
    return b;
  }),
  // an extra property (a role, an id, anything)
  fc
    .record({
      key: fc.string().filter((k) => !['username', 'email', 'password', 'brokerage_id', 'role'].includes(k)),
      value: fc.jsonValue(),
    })
    .map(({ key, value }) => ({ ...valid, [key]: value })),
  fc.constantFrom({ ...valid, role: 'admin' }, { ...valid, brokerage_id: 'x' }, { ...valid, role: 'root' }),
);

const anyLogin: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue(),
  fc.record({ username: fc.oneof(anyString, wrongType), password: fc.oneof(anyString, wrongType) }),
  fc.record({ username: anyString, password: anyString, extra: fc.jsonValue() }),
  fc.dictionary(anyString, fc.jsonValue(), { maxKeys: 4 }),
);

forEachDb('users: fuzzing', (makeDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(await makeDb());
    await h.user({ name: 'validname' }); // exists, so a body that somehow passed could only 409
  }, SETUP_MS);
  afterAll(() => h.close());

  async function state() {
    return Promise.all(
      ['users', 'auth_sessions', 'refresh_tokens', 'api_keys'].map((t) => countRows(h.db, t)),
    );
  }

  function expectProblem4xx(res: { statusCode: number; headers: Record<string, unknown>; body: string }) {
    expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
    expect(res.statusCode, res.body).toBeLessThan(500);
    expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
    const p = JSON.parse(res.body);
    expect(p.status).toBe(res.statusCode);
    expect(p.type).toMatch(/^https:\/\/bourse\.dev\/problems\//);
  }

  it('POST /users: every bad body is a 4xx problem and changes nothing', async () => {
    const before = await state();
    await fc.assert(
      fc.asyncProperty(badRegistration, async (body) => {
        const res = await h.req({
          method: 'POST',
          url: '/users',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify(body),
        });
        expectProblem4xx(res);
      }),
      { numRuns: 300 },
    );
    expect(await state()).toEqual(before);
  });

  it('POST /users and /auth/login: malformed JSON is a 400 problem', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/users', '/auth/login'), anyString, async (url, raw) => {
        let parses = true;
        try {
          JSON.parse(raw);
        } catch {
          parses = false;
        }
        fc.pre(!parses);
        const res = await h.req({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json' },
          payload: raw,
        });
        expectProblem4xx(res);
      }),
      { numRuns: 100 },
    );
  });

  it('POST /auth/login: any body is a 4xx problem and opens no session', async () => {
    const before = await state();
    await fc.assert(
      fc.asyncProperty(anyLogin, async (body) => {
        const res = await h.req({
          method: 'POST',
          url: '/auth/login',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify(body),
        });
        expectProblem4xx(res);
        expect([400, 401, 429]).toContain(res.statusCode);
      }),
      { numRuns: 150 },
    );
    expect(await state()).toEqual(before);
  });
});

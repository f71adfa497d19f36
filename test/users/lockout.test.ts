import { afterAll, beforeAll, expect, it } from 'vitest';
import { forEachDb } from '../support/db.ts';
import { expectProblem, type Harness, makeHarness, PASSWORD, SETUP_MS, unique } from './harness.ts';

forEachDb('users: lockout after failed logins', (makeDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(await makeDb());
  }, SETUP_MS);
  afterAll(() => h.close());

  const fail = (login: string) => h.login(login, 'definitely not it!');

  it('locks after 5 failures, even the right password; unlocks after the lock; success clears the count', async () => {
    const u = await h.user();
    for (let i = 0; i < 5; i++) expectProblem(await fail(u.username), 401);
    const locked = await h.login(u.username);
    expectProblem(locked, 429);
    expect(Number(locked.headers['retry-after'])).toBe(30);
    expect(locked.json()).toMatchObject({
      type: 'https://bourse.dev/problems/login-locked',
      retry_after: 30,
    });
    // by email too: the lock is on the account, not on the name typed
    expectProblem(await h.login(u.email), 429);

    h.clock.advance(30_000);
    expect((await h.login(u.username)).statusCode).toBe(200);
    // the counter was cleared: four more failures do not lock
    for (let i = 0; i < 4; i++) expectProblem(await fail(u.username), 401);
    expect((await h.login(u.username)).statusCode).toBe(200);
  });

  it('backs off exponentially: each failure after a lock locks twice as long', async () => {
    const u = await h.user();
    for (let i = 0; i < 5; i++) await fail(u.username);
    h.clock.advance(30_000);
    expectProblem(await fail(u.username), 401);
    const second = await h.login(u.username);
    expectProblem(second, 429);
    expect(Number(second.headers['retry-after'])).toBe(60);
    h.clock.advance(60_000);
    await fail(u.username);
    expect(Number((await h.login(u.username)).headers['retry-after'])).toBe(120);
  });

  it('a burst of parallel guesses cannot get past the threshold', async () => {
    const u = await h.user();
    const answers = await Promise.all(Array.from({ length: 12 }, () => fail(u.username)));
    const codes = answers.map((a) => a.statusCode);
    // at most `threshold` attempts reached the password check
    expect(codes.filter((c) => c === 401).length).toBeLessThanOrEqual(5);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(7);
    expectProblem(await h.login(u.username), 429);
  });

  it('an unknown name locks exactly like an account: lockout does not reveal who exists', async () => {
    const ghost = unique('ghost');
    for (let i = 0; i < 5; i++) expectProblem(await fail(ghost), 401);
    const locked = await fail(ghost);
    expectProblem(locked, 429);
    expect(locked.headers['retry-after']).toBe('30');
    // and no identifier is stored in clear
    const { rows } = await h.db.query<{ key: string }>('SELECT key FROM login_throttle');
    expect(rows.some((r) => r.key.includes(ghost))).toBe(false);
  });

  it("another account's lockout does not touch mine", async () => {
    const a = await h.user();
    const b = await h.user();
    for (let i = 0; i < 6; i++) await fail(a.username);
    expectProblem(await h.login(a.username), 429);
    expect((await h.login(b.username, PASSWORD)).statusCode).toBe(200);
  });
});

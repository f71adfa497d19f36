import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { forEachDb } from '../support/db.ts';
import {
  bearer,
  countRows,
  expectProblem,
  type Harness,
  makeHarness,
  PASSWORD,
  SETUP_MS,
} from './harness.ts';

forEachDb('users: login, refresh, logout, signing keys', (makeDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(await makeDb());
  }, SETUP_MS);
  afterAll(() => h.close());

  const me = (token: string) => h.req({ method: 'GET', url: '/users/me', headers: bearer(token) });
  const refresh = (token: string) =>
    h.req({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: token } });

  it('logs in by username or email: Bearer access JWT (EdDSA, kid, at+jwt) + refresh token', async () => {
    const u = await h.user();
    for (const login of [u.username, u.email.toUpperCase()]) {
      const res = await h.login(login);
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const t = res.json();
      expect(t).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
      expect(t.refresh_token).toMatch(/^brt_[A-Za-z0-9_-]{43}$/);
      const header = decodeProtectedHeader(t.access_token);
      expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
      expect(typeof header.kid).toBe('string');
      const claims = decodeJwt(t.access_token);
      expect(claims).toMatchObject({
        sub: u.id,
        role: 'investor',
        usr: u.username,
        iss: 'bourse',
        aud: 'bourse',
      });
      expect(claims.exp! - claims.iat!).toBe(900);
      // anyone holding the JWKS can verify it
      const jwks = (await h.req({ method: 'GET', url: '/.well-known/jwks.json' })).json();
      const { payload } = await jwtVerify(t.access_token, createLocalJWKSet(jwks), {
        currentDate: new Date(h.clock.now()),
      });
      expect(payload.sub).toBe(u.id);
      expect((await me(t.access_token)).json().id).toBe(u.id);
    }
  });

  it('a wrong password and an unknown user get the same 401', async () => {
    const u = await h.user();
    const wrong = await h.login(u.username, 'not the password at all');
    const unknown = await h.login('nobody-here', PASSWORD);
    expectProblem(wrong, 401);
    expectProblem(unknown, 401);
    const strip = (b: Record<string, unknown>) => ({ ...b, instance: undefined });
    expect(strip(wrong.json())).toEqual(strip(unknown.json()));
  });

  it('rejects tampered, foreign and expired access tokens', async () => {
    const u = await h.user();
    const [head, body, sig] = u.access.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    expectProblem(await me(`${head}.${forged}.${sig}`), 401);
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
    expectProblem(await me(`${none}.${body}.`), 401);
    expectProblem(await me('not-a-jwt'), 401);
    expectProblem(await h.req({ method: 'GET', url: '/users/me' }), 401);
    const res = await me(u.access);
    expect(res.statusCode).toBe(200);
    h.clock.advance(901_000);
    const expired = await me(u.access);
    expectProblem(expired, 401);
    expect(expired.headers['www-authenticate']).toMatch(/^Bearer realm="bourse", error="invalid_token"/);
  });

  it('refresh rotates the token; reusing an old one revokes the whole family', async () => {
    const u = await h.user();
    const r1 = await refresh(u.refresh);
    expect(r1.statusCode).toBe(200);
    const t1 = r1.json();
    expect(t1.refresh_token).not.toBe(u.refresh);
    const r2 = await refresh(t1.refresh_token);
    expect(r2.statusCode).toBe(200);
    const t2 = r2.json();
    expect((await me(t2.access_token)).statusCode).toBe(200);

    // the first token again: reuse. Everything of that login dies, the thief's and the owner's.
    expectProblem(await refresh(u.refresh), 401);
    expectProblem(await refresh(t2.refresh_token), 401);
    expectProblem(await me(t2.access_token), 401);
    expectProblem(await me(u.access), 401);

    // another login of the same user is untouched
    const other = (await h.login(u.username)).json();
    expect((await me(other.access_token)).statusCode).toBe(200);
  });

  it('two concurrent refreshes with one token: one wins, the family dies', async () => {
    const u = await h.user();
    const [a, b] = await Promise.all([refresh(u.refresh), refresh(u.refresh)]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 401]);
    const winner = (a.statusCode === 200 ? a : b).json();
    expectProblem(await refresh(winner.refresh_token), 401);
  });

  it('refresh tokens are stored only as keyed hashes', async () => {
    const u = await h.user();
    const { rows } = await h.db.query<{ token_hash: string }>('SELECT token_hash FROM refresh_tokens');
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(r.token_hash).not.toContain(u.refresh.slice(4, 20));
    }
  });

  it('refuses unknown, malformed and expired refresh tokens', async () => {
    expectProblem(await refresh(`brt_${'A'.repeat(43)}`), 401);
    expectProblem(await refresh('garbage'), 400, 'refresh_token');
    expectProblem(await h.req({ method: 'POST', url: '/auth/refresh', payload: {} }), 400, 'refresh_token');
    const u = await h.user();
    h.clock.advance(15 * 86_400_000);
    expectProblem(await refresh(u.refresh), 401);
  });

  it('logout with the access token ends that session only', async () => {
    const u = await h.user();
    const second = (await h.login(u.username)).json();
    const out = await h.req({ method: 'POST', url: '/auth/logout', headers: u.auth });
    expect(out.statusCode).toBe(204);
    expectProblem(await me(u.access), 401);
    expectProblem(await refresh(u.refresh), 401);
    expect((await me(second.access_token)).statusCode).toBe(200);
  });

  it('logout with the refresh token in the body', async () => {
    const u = await h.user();
    const out = await h.req({ method: 'POST', url: '/auth/logout', payload: { refresh_token: u.refresh } });
    expect(out.statusCode).toBe(204);
    expectProblem(await me(u.access), 401);
    expectProblem(await h.req({ method: 'POST', url: '/auth/logout' }), 401);
  });

  it('logout everywhere ends every session', async () => {
    const u = await h.user();
    const second = (await h.login(u.username)).json();
    expect(
      (await h.req({ method: 'POST', url: '/auth/logout-all', headers: bearer(second.access_token) }))
        .statusCode,
    ).toBe(204);
    expectProblem(await me(u.access), 401);
    expectProblem(await me(second.access_token), 401);
    expectProblem(await refresh(u.refresh), 401);
    expect((await h.login(u.username)).statusCode).toBe(200);
  });

  it('rotation publishes the new key before it signs, keeps old tokens valid, then drops the old key', async () => {
    const u = await h.user();
    const oldKid = decodeProtectedHeader(u.access).kid;
    const admin = await h.admin();
    const rotated = await h.req({ method: 'POST', url: '/auth/keys/rotate', headers: admin.auth });
    expect(rotated.statusCode).toBe(200);
    const newKid = rotated.json().kid;
    expect(newKid).not.toBe(oldKid);
    const jwksKids = async () =>
      (await h.req({ method: 'GET', url: '/.well-known/jwks.json' }))
        .json()
        .keys.map((k: { kid: string }) => k.kid);
    expect(await jwksKids()).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect((await me(u.access)).statusCode).toBe(200);
    // every instance must have seen the new key before it signs anything
    expect(decodeProtectedHeader((await h.login(u.username)).json().access_token).kid).toBe(oldKid);
    h.clock.advance(60_000);
    const fresh = (await h.login(u.username)).json();
    expect(decodeProtectedHeader(fresh.access_token).kid).toBe(newKid);
    expect((await me(u.access)).statusCode).toBe(200);
    // once nothing it signed can still be alive, the old key leaves the JWKS
    h.clock.advance(961_000);
    expect(await jwksKids()).not.toContain(oldKid);
    expect(await jwksKids()).toContain(newKid);
  });

  it('keeps private keys encrypted at rest', async () => {
    const { rows } = await h.db.query<{ private_key_enc: string; public_jwk: Record<string, unknown> }>(
      'SELECT private_key_enc, public_jwk FROM jwt_signing_keys',
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.private_key_enc).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(r.private_key_enc).not.toContain('PRIVATE KEY');
      expect(r.public_jwk).not.toHaveProperty('d');
    }
  });

  it('investors cannot rotate keys', async () => {
    const u = await h.user();
    expectProblem(await h.req({ method: 'POST', url: '/auth/keys/rotate', headers: u.auth }), 403);
  });

  it('login bodies that are not a login are 400 and open no session', async () => {
    const before = await countRows(h.db, 'auth_sessions');
    expectProblem(
      await h.req({ method: 'POST', url: '/auth/login', payload: { username: 'a' } }),
      400,
      'password',
    );
    expectProblem(
      await h.req({ method: 'POST', url: '/auth/login', payload: { username: 'a', password: 1 } }),
      400,
      'password',
    );
    expectProblem(
      await h.req({
        method: 'POST',
        url: '/auth/login',
        payload: { username: 'a', password: 'b', extra: 1 },
      }),
      400,
      'extra',
    );
    expect(await countRows(h.db, 'auth_sessions')).toBe(before);
  });
});

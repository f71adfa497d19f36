/** The first admin (BOURSE_ADMIN_PASSWORD), the secret file of the embedded default, key encryption. */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/platform/clock.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { ensureAdmin } from '../../src/services/users/index.ts';
import { deriveKeys, open, resolveSecret, seal } from '../../src/services/users/secret.ts';
import { forEachDb } from '../support/db.ts';
import { countRows, makeHarness, SETUP_MS } from './harness.ts';

const logger = createLogger({ level: 'silent' });

forEachDb('users: bootstrap', (makeDb) => {
  let db: Db;
  beforeAll(async () => {
    db = await makeDb();
  }, SETUP_MS);

  it('creates the first admin only when BOURSE_ADMIN_PASSWORD is set, once, never changing it later', async () => {
    const deps = { db, clock: systemClock, logger };
    expect(await ensureAdmin(deps, { password: undefined })).toEqual({ created: false, userId: null });
    expect(await ensureAdmin(deps, { password: '' })).toEqual({ created: false, userId: null });
    expect(await countRows(db, 'users')).toBe(0);
    await expect(ensureAdmin(deps, { password: 'short' })).rejects.toThrow(/BOURSE_ADMIN_PASSWORD/);

    const first = await ensureAdmin(deps, { password: 'initial pass phrase one' });
    expect(first.created).toBe(true);
    const again = await ensureAdmin(deps, { password: 'another pass phrase!!' });
    expect(again).toEqual({ created: false, userId: first.userId });
    const { rows } = await db.query<{ role: string; brokerage_id: string | null }>(
      'SELECT role, brokerage_id FROM users WHERE id = $1',
      [first.userId],
    );
    expect(rows[0]).toEqual({ role: 'admin', brokerage_id: null });

    // the old password still logs in: a restart with another BOURSE_ADMIN_PASSWORD changed nothing
    const h = await makeHarness(db);
    try {
      expect((await h.login('admin', 'initial pass phrase one')).statusCode).toBe(200);
      expect((await h.login('admin', 'another pass phrase!!')).statusCode).toBe(401);
    } finally {
      await h.close();
    }
  });

  it('never promotes an existing non-admin of that name', async () => {
    const h = await makeHarness(db);
    try {
      await h.user({ name: 'boss' });
      const r = await ensureAdmin(
        { db, clock: systemClock, logger },
        { password: 'initial pass phrase one', username: 'boss' },
      );
      expect(r).toEqual({ created: false, userId: null });
      const { rows } = await db.query<{ role: string }>("SELECT role FROM users WHERE username = 'boss'");
      expect(rows[0]!.role).toBe('investor');
    } finally {
      await h.close();
    }
  });

  it('a service with another BOURSE_SECRET cannot use the stored private keys and makes its own', async () => {
    const a = await makeHarness(db);
    const kidsA = (await a.req({ method: 'GET', url: '/.well-known/jwks.json' }))
      .json()
      .keys.map((k: { kid: string }) => k.kid);
    await a.close();
    const b = await makeHarness(db, { config: { secret: 'a completely different secret of 40 chars' } });
    try {
      const u = await b.user();
      expect(u.access).toBeTruthy();
      const kidsB = (await b.req({ method: 'GET', url: '/.well-known/jwks.json' }))
        .json()
        .keys.map((k: { kid: string }) => k.kid);
      expect(kidsB.some((k: string) => !kidsA.includes(k))).toBe(true);
    } finally {
      await b.close();
    }
  });
});

describe('users: the secret', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bourse-users-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('uses BOURSE_SECRET when given, and refuses a short one', async () => {
    expect(await resolveSecret({ secret: 's'.repeat(32) }, logger)).toBe('s'.repeat(32));
    await expect(resolveSecret({ secret: 'short' }, logger)).rejects.toThrow(/at least 32/);
    await expect(resolveSecret({}, logger)).rejects.toThrow(/BOURSE_SECRET/);
  });

  it('generates one into the data dir with mode 0600, logs that it did (not the secret), then reuses it', async () => {
    const lines: string[] = [];
    const capture = createLogger({ level: 'info', destination: { write: (s: string) => lines.push(s) } });
    const data = join(dir, 'data');
    const s1 = await resolveSecret({ dataDir: data }, capture);
    expect(s1.length).toBeGreaterThanOrEqual(32);
    expect((await stat(join(data, 'secret'))).mode & 0o777).toBe(0o600);
    expect(lines.join('')).toMatch(/generated a new secret/);
    expect(lines.join('')).not.toContain(s1);
    expect(await resolveSecret({ dataDir: data }, capture)).toBe(s1);
    expect((await readFile(join(data, 'secret'), 'utf8')).trim()).toBe(s1);
  });

  it('tightens a secret file that others could read', async () => {
    const data = join(dir, 'loose');
    await resolveSecret({ dataDir: data }, logger);
    await writeFile(join(data, 'secret'), 'x'.repeat(40), { mode: 0o644 });
    const { chmod } = await import('node:fs/promises');
    await chmod(join(data, 'secret'), 0o644);
    expect(await resolveSecret({ dataDir: data }, logger)).toBe('x'.repeat(40));
    expect((await stat(join(data, 'secret'))).mode & 0o777).toBe(0o600);
  });

  it('seals with AES-GCM bound to its row: another key or another kid cannot open it', () => {
    const k1 = deriveKeys('a'.repeat(40)).keyEncryption;
    const k2 = deriveKeys('b'.repeat(40)).keyEncryption;
    const sealed = seal(k1, 'private key', 'kid-1');
    expect(open(k1, sealed, 'kid-1')).toBe('private key');
    expect(() => open(k2, sealed, 'kid-1')).toThrow();
    expect(() => open(k1, sealed, 'kid-2')).toThrow();
    const parts = sealed.split('.');
    parts[2] = Buffer.from('tampered').toString('base64url');
    expect(() => open(k1, parts.join('.'), 'kid-1')).toThrow();
  });

  it('derives different keys for different purposes', () => {
    const d = deriveKeys('c'.repeat(40));
    expect(d.keyEncryption.equals(d.credentialPepper)).toBe(false);
    expect(d.internalToken).not.toBe(d.keyEncryption.toString('base64url'));
  });
});

/** The embedded default keeps its data in a directory across restarts. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openDb } from '../../src/platform/db/open.ts';

it('PGlite in a directory keeps committed data across close and reopen', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bourse-pglite-'));
  const pgliteDir = join(dir, 'nested', 'pglite'); // created on demand
  try {
    const first = await openDb({ pgliteDir });
    expect(first.kind).toBe('pglite');
    await first.exec('CREATE TABLE kept (id int8, at timestamptz)');
    await first.transaction((tx) => tx.query('INSERT INTO kept VALUES ($1, $2)', [1, new Date(0)]));
    await first
      .transaction(async (tx) => {
        await tx.query('INSERT INTO kept VALUES (2, now())');
        throw new Error('not this one');
      })
      .catch(() => {});
    await first.close();

    const second = await openDb({ pgliteDir });
    expect((await second.query('SELECT * FROM kept')).rows).toEqual([{ id: 1, at: new Date(0) }]);
    await second.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

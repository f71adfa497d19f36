/**
 * `bourse backup FILE` and `bourse restore FILE` (README, "Operations").
 *
 * A backup is src/platform/db/backup.ts's consistent logical copy of the whole database, journal
 * and snapshots included, taken:
 *   - on PostgreSQL (DATABASE_URL), by the command itself over a connection of its own;
 *   - on PGlite, by the running Bourse (one process owns the folder): the command downloads it
 *     from GET /v1/admin/backup as the admin. A stopped Bourse's folder is opened directly.
 * Each backup is recorded in ops_backups (migration 008), for the operator status. The journal
 * archive (BOURSE_ARCHIVE_DIR) is plain immutable files: copy it alongside.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../platform/config.ts';
import { type BackupInfo, backupDatabase, restoreDatabase } from '../platform/db/backup.ts';
import { openDb } from '../platform/db/open.ts';
import type { Db, Queryable } from '../platform/db/types.ts';

/** The journal's last seq (its consistency point), read inside the backup's transaction. */
async function journalPoint(tx: Queryable): Promise<{ journal_seq: number }> {
  const { rows } = await tx.query<{ seq: number | null }>(
    `SELECT GREATEST((SELECT max(seq) FROM journal),
                     (SELECT max(archived_seq) FROM exchange_state), 0) AS seq`,
  );
  return { journal_seq: rows[0]?.seq ?? 0 };
}

/**
 * One backup of `db` into `out`, recorded in ops_backups once written (`file` is what the record
 * says). Used by the command and by the running Bourse's /v1/admin/backup.
 */
export async function takeBackup(db: Db, out: Writable, file: string): Promise<BackupInfo> {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  counter.pipe(out);
  const info = await backupDatabase(db, counter, journalPoint);
  await db.query('INSERT INTO ops_backups (taken_at, journal_seq, bytes, file) VALUES ($1, $2, $3, $4)', [
    new Date(info.header.taken_at),
    info.header.meta.journal_seq,
    bytes,
    file,
  ]);
  return info;
}

/** Writes to FILE.partial and renames once complete, so FILE is never a cut-short backup. */
async function toFile(file: string, write: (out: Writable) => Promise<void>): Promise<void> {
  const partial = `${file}.partial`;
  try {
    const out = createWriteStream(partial);
    await write(out);
    await rename(partial, file);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

export async function backupCommand(
  config: Config,
  file: string,
  adminHeaders: (base: string) => Promise<Record<string, string>>,
): Promise<string> {
  const pgliteRunning = !config.databaseUrl && existsSync(join(config.pgliteDir, 'postmaster.pid'));
  if (pgliteRunning) {
    const base = (process.env.BOURSE_URL ?? `http://localhost:${config.port}`).replace(/\/+$/, '');
    const headers = await adminHeaders(base);
    const res = await fetch(`${base}/v1/admin/backup?file=${encodeURIComponent(file)}`, { headers }).catch(
      (err: Error) => {
        throw new Error(
          `${config.pgliteDir} is in use (postmaster.pid) but ${base} does not answer (${err.message}); ` +
            'start Bourse to back it up, or set BOURSE_URL',
        );
      },
    );
    if (!res.ok || !res.body)
      throw new Error(`${base}/v1/admin/backup: HTTP ${res.status} ${await res.text()}`);
    await toFile(file, (out) => pipeline(Readable.fromWeb(res.body as never), out));
  } else {
    const db = await openDb(config);
    try {
      await toFile(file, async (out) => void (await takeBackup(db, out, file)));
    } finally {
      await db.close();
    }
  }
  const { size } = await stat(file);
  return `bourse backup: ${file} (${size} bytes)`;
}

export async function restoreCommand(config: Config, file: string): Promise<string> {
  if (!config.databaseUrl) {
    const entries = await readdir(config.pgliteDir).catch(() => [] as string[]);
    if (entries.length > 0)
      throw new Error(
        `${config.pgliteDir} is not empty: restore only into a new data folder (BOURSE_DATA_DIR)`,
      );
  }
  const db = await openDb(config);
  try {
    const { header, rows } = await restoreDatabase(db, file);
    return (
      `bourse restore: ${rows} rows from ${file} (taken ${header.taken_at}, journal seq ` +
      `${header.meta.journal_seq ?? '?'}); start Bourse to apply newer migrations`
    );
  } finally {
    await db.close();
  }
}

/**
 * The journal's archive: entries pruned from the hot `journal` table (retention.ts), kept as
 * gzip'd JSON-lines segment files, one per pruned batch, in BOURSE_ARCHIVE_DIR
 * (default <data dir>/journal-archive).
 *
 *   journal-000000000001-000000010000.jsonl.gz   entries 1…10000, one JSON object a line:
 *   {"seq":1,"ts":"2026-…Z","command":{…},"idempotency_key":null,"reject_reason":null}
 *
 * A segment is written to a temporary name, flushed and renamed before its rows leave the
 * table, so a crash leaves the rows in the table (and perhaps a segment that a later one
 * overlaps: readers skip seqs they have already seen). Nothing here is needed to start: a
 * snapshot covers every archived entry. `bourse verify` and audits read it.
 *
 * Orders shard nodes archive their own journals (shard_journal, retention.ts) the same way, under
 * their own prefix, so one folder can take every shard's segments without a clash:
 *
 *   shard-3-000000000001-000000010000.jsonl.gz   shard 3's entries 1…10000: {"seq":1,"input":{…}}
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { createGunzip, gzip } from 'node:zlib';
import type { Command, RejectReason } from '../../domain/exchange.ts';
import type { JournalEntry } from './journal.ts';

const gzipAsync = promisify(gzip);

/** The single orders service's segments; a shard node's are `shardSegments(k)`. */
export const JOURNAL_SEGMENTS = 'journal';
export const shardSegments = (shard: number): string => `shard-${shard}`;

const segmentName = (prefix: string): RegExp => new RegExp(`^${prefix}-(\\d{12})-(\\d{12})\\.jsonl\\.gz$`);

export interface ArchivedRow {
  seq: number;
  /** ISO time, as the table held it */
  ts: string;
  command: Command;
  idempotency_key: string | null;
  reject_reason: RejectReason | null;
}

export interface Segment {
  file: string;
  from: number;
  to: number;
}

const pad = (n: number): string => String(n).padStart(12, '0');

/**
 * Writes one segment durably (temporary name, fsync, rename); returns its path. The temporary name
 * is this writer's own, so two writers of the same range (a deposed leader's late run) cannot
 * interleave in one file: each renames a whole segment, and both hold the same rows.
 */
export async function writeSegment<Row extends { seq: number }>(
  dir: string,
  rows: readonly Row[],
  prefix = JOURNAL_SEGMENTS,
): Promise<string> {
  if (rows.length === 0) throw new Error('an archive segment needs at least one entry');
  await mkdir(dir, { recursive: true });
  const name = `${prefix}-${pad(rows[0]!.seq)}-${pad(rows[rows.length - 1]!.seq)}.jsonl.gz`;
  const body = await gzipAsync(Buffer.from(rows.map((r) => `${JSON.stringify(r)}\n`).join('')));
  const tmp = join(dir, `.${name}.${process.pid}.${randomUUID()}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(body);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, join(dir, name));
  // the rename itself must reach the disk before the rows are deleted
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
  return join(dir, name);
}

/** The segments of `dir` with this prefix, in seq order (none when the folder does not exist). */
export async function listSegments(dir: string, prefix = JOURNAL_SEGMENTS): Promise<Segment[]> {
  const pattern = segmentName(prefix);
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const out: Segment[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (m) out.push({ file: join(dir, name), from: Number(m[1]), to: Number(m[2]) });
  }
  return out.sort((a, b) => a.from - b.from || a.to - b.to);
}

/** The archived rows after `afterSeq`, in seq order, each once. */
export async function* readArchive<Row extends { seq: number } = ArchivedRow>(
  dir: string,
  afterSeq = 0,
  prefix = JOURNAL_SEGMENTS,
): AsyncGenerator<Row> {
  let last = afterSeq;
  for (const segment of await listSegments(dir, prefix)) {
    if (segment.to <= last) continue;
    const lines = createInterface({ input: createReadStream(segment.file).pipe(createGunzip()) });
    for await (const line of lines) {
      if (line === '') continue;
      const row = JSON.parse(line) as Row;
      if (row.seq <= last) continue;
      last = row.seq;
      yield row;
    }
  }
}

/** The archive as journal entries (what replay reads). */
export async function* archivedEntries(dir: string, afterSeq = 0): AsyncGenerator<JournalEntry> {
  for await (const row of readArchive(dir, afterSeq)) {
    yield {
      seq: row.seq,
      command: row.command,
      idempotencyKey: row.idempotency_key,
      rejectReason: row.reject_reason,
    };
  }
}

/**
 * The machine's side of GET /v1/admin/status (journal and snapshot disk use, last snapshot age,
 * projection and outbox lag, archive, last backup) and GET /v1/admin/backup, which `bourse backup`
 * downloads from a running PGlite Bourse.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { takeBackup } from '../../src/cli/backup.ts';
import { restoreDatabase } from '../../src/platform/db/backup.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { fund, listAcme, startService } from '../orders/support/service.ts';
import { TRADERS, trade } from '../orders/support/trading.ts';
import { forEachDb, makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWithPostgres } from '../support/services.ts';
import { expectProblem, type Stack, startGateway, startStack, type TestUser } from './stack.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

interface StorageView {
  journal_bytes: number;
  journal_rows: number;
  journal_first_seq: number | null;
  archived_seq: number;
  snapshots_bytes: number;
  snapshots: number;
  last_snapshot_seq: number | null;
  last_snapshot_age_s: number | null;
  committed_seq: number;
  projected_seq: number;
  published_seq: number;
  projection_lag: number;
  outbox_lag: number;
  last_backup: { taken_at: string; journal_seq: number; bytes: number; file: string } | null;
}

describeWithPostgres('gateway admin status: storage and backups', () => {
  const makeDb = scoped(makePostgresDb);
  let db: Db;
  let stack: Stack;
  let admin: TestUser;

  beforeAll(async () => {
    db = await makeDb();
    stack = await startStack(db, { backup: (out, file) => takeBackup(db, out, file) });
    admin = await stack.admin();
  });
  afterAll(async () => {
    await stack?.close();
  });

  const storage = async (): Promise<StorageView> => {
    const res = await stack.req({ method: 'GET', url: '/v1/admin/status', headers: admin.auth });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { storage: StorageView }).storage;
  };

  it('shows journal and snapshot disk use, the last snapshot, the lags and the last backup', async () => {
    await listAcme(stack.orders.client);
    await fund(stack.orders.client, TRADERS);
    await trade(stack.orders.client, 31, 5);
    await stack.orders.snapshot();
    const committed = stack.orders.sequencer.committedSeq();

    const s = await storage();
    expect(s.journal_bytes).toBeGreaterThan(0);
    expect(s.snapshots_bytes).toBeGreaterThan(0);
    expect(s.snapshots).toBe(1);
    expect(s.last_snapshot_seq).toBe(committed);
    expect(s.last_snapshot_age_s).toBeGreaterThanOrEqual(0);
    expect(s.committed_seq).toBe(committed);
    expect(s.journal_first_seq).toBe(1);
    expect(s.journal_rows).toBe(committed);
    expect(s.archived_seq).toBe(0);
    expect(s.projection_lag).toBe(s.committed_seq - s.projected_seq);
    expect(s.outbox_lag).toBe(s.committed_seq - s.published_seq);
    expect(s.last_backup).toBeNull();

    const res = await stack.req({
      method: 'GET',
      url: '/v1/admin/backup?file=nightly.gz',
      headers: admin.auth,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/gzip');
    const header = JSON.parse(gunzipSync(res.rawPayload).toString().split('\n')[0]!);
    expect(header).toMatchObject({ bourse_backup: 1, meta: { journal_seq: committed } });

    const after = await storage();
    expect(after.last_backup).toMatchObject({ journal_seq: committed, file: 'nightly.gz' });
    expect(after.last_backup!.bytes).toBe(res.rawPayload.length);

    // what was downloaded restores
    const dir = await mkdtemp(join(tmpdir(), 'bourse-download-'));
    dirs.push(dir);
    await writeFile(join(dir, 'nightly.gz'), res.rawPayload);
    const target = await makeDb({ migrations: false });
    expect((await restoreDatabase(target, join(dir, 'nightly.gz'))).header.meta.journal_seq).toBe(committed);
  });

  it('shows the one orders instance as the leader of shard 0, and an instance that does not answer as unreachable', async () => {
    const dead = 'http://127.0.0.1:9'; // the discard port: nothing listens there
    const gateway = await startGateway(stack, { ordersUrls: [stack.url, dead] });
    try {
      const res = await gateway.app.inject({ method: 'GET', url: '/v1/admin/status', headers: admin.auth });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as {
        exchange: { last_seq: number };
        cluster: { orders: { shards: unknown[]; unreachable: { url: string; error: string }[] } };
      };
      // no leadership here (one process, unfenced): its only writer, with the exchange's last seq
      expect(body.cluster.orders.shards).toEqual([
        {
          shard: 0,
          leader: { holder: null, epoch: null, url: stack.url, seq: body.exchange.last_seq },
          standbys: [],
          fenced: [],
        },
      ]);
      expect(body.cluster.orders.unreachable).toEqual([{ url: dead, error: expect.any(String) }]);
    } finally {
      await gateway.close();
    }
  });

  it('refuses the backup to an investor and to an anonymous caller', async () => {
    const investor = await stack.user();
    expectProblem(await stack.req({ method: 'GET', url: '/v1/admin/backup', headers: investor.auth }), 403);
    expectProblem(await stack.req({ method: 'GET', url: '/v1/admin/backup' }), 401);
    expectProblem(
      await stack.req({ method: 'GET', url: '/v1/admin/backup?file=', headers: admin.auth }),
      422,
      'file',
    );
  });
});

forEachDb('orders storage status', (makeDb) => {
  it('counts what retention archived, on this database', async () => {
    const db = await makeDb();
    const archiveDir = await mkdtemp(join(tmpdir(), 'bourse-archive-'));
    dirs.push(archiveDir);
    const service = await startService(db, {
      archiveDir,
      journalRetain: 10,
      idempotencyWindowMs: 0,
      pruneIntervalMs: 0,
      snapshotEvery: 0,
      snapshotIntervalMs: 0,
    });
    await listAcme(service.client);
    await fund(service.client, TRADERS);
    await trade(service.client, 32, 5);
    await service.snapshot();
    const pruned = await service.prune();
    const s = await service.client.storageStatus();
    const committed = service.sequencer.committedSeq();
    expect(s.journal.archivedSeq).toBe(pruned?.archivedSeq);
    expect(s.journal.archivedSeq).toBe(committed - 10);
    expect(s.journal.firstSeq).toBe(committed - 9);
    expect(s.journal.rows).toBe(10);
    expect(s.journal.archiveDir).toBe(archiveDir);
    expect(s.snapshots).toMatchObject({ count: 1, lastSeq: committed });
    expect(s.lastBackup).toBeNull();
    await service.close();
  });
});

/**
 * `bourse backup` / `bourse restore` (src/cli/backup.ts, src/platform/db/backup.ts): a backup
 * taken while orders keep coming is one consistent point of the journal, and a restore into an
 * empty database starts the orders service in exactly that state.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { takeBackup } from '../../src/cli/backup.ts';
import { createExchange } from '../../src/engine/index.ts';
import { RestoreError, restoreDatabase } from '../../src/platform/db/backup.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { DEFAULT_EXCHANGE_CONFIG, replayJournal, verifyOrders } from '../../src/services/orders/index.ts';
import { forEachDb } from '../support/db.ts';
import { count, fund, listAcme, replayedState, startService } from './support/service.ts';
import { TRADERS as ACCOUNTS, trade } from './support/trading.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const recover = { createExchange, exchangeConfig: DEFAULT_EXCHANGE_CONFIG };

forEachDb('orders: backup and restore', (makeDb) => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('backs up a trading exchange at one point, and a restore starts exactly there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bourse-backup-'));
    dirs.push(dir);
    const file = join(dir, 'bourse.backup.gz');
    const db = await makeDb();
    const service = await startService(db, { snapshotEvery: 200, snapshotIntervalMs: 0 });
    await listAcme(service.client);
    await fund(service.client, ACCOUNTS);
    await trade(service.client, 11, 20);
    // a snapshot in the backup (more are taken while it runs, every 200 commands)
    await service.snapshot();

    // orders keep coming while the backup runs
    let trading = true;
    const background = (async () => {
      for (let seed = 100; trading; seed++) await trade(service.client, seed, 1);
    })();
    await trade(service.client, 12, 2);
    const ackedAtStart = service.sequencer.committedSeq();
    const info = await takeBackup(db, createWriteStream(file), file);
    const ackedAtEnd = service.sequencer.committedSeq();
    await trade(service.client, 13, 5);
    trading = false;
    await background;
    await service.close();
    const finalSeq = service.sequencer.committedSeq();

    const backupSeq = info.header.meta.journal_seq as number;
    expect(backupSeq).toBeGreaterThanOrEqual(ackedAtStart);
    expect(backupSeq).toBeLessThanOrEqual(ackedAtEnd);
    expect(finalSeq).toBeGreaterThan(backupSeq);
    expect((await stat(file)).size).toBeGreaterThan(0);
    const recorded = await db.query<{ journal_seq: number; file: string }>(
      'SELECT journal_seq, file FROM ops_backups ORDER BY id DESC LIMIT 1',
    );
    expect(recorded.rows[0]).toEqual({ journal_seq: backupSeq, file });

    const target = await makeDb({ migrations: false });
    const restored = await restoreDatabase(target, file);
    expect(restored.rows).toBe(info.rows);
    await migrate(target);
    expect(await count(target, 'journal')).toBe(backupSeq);
    expect(await count(target, 'orders_snapshots')).toBeGreaterThan(0);

    const again = await startService(target);
    const replayed = await replayedState(target);
    // the journal in the backup ends at the backup point, and the service resumes exactly there
    expect(replayed.lastSeq).toBe(backupSeq);
    expect(again.sequencer.committedSeq()).toBe(backupSeq);
    expect(again.sequencer.engine().exportState()).toEqual(replayed.state);
    // … which is the original exchange's state at that seq (orders, balances, books)
    const original = await replayJournal(db, recover, backupSeq);
    expect(again.sequencer.engine().exportState()).toEqual(original.state.engine.exportState());
    for (const account of ACCOUNTS) {
      const balance = await again.client.balance(account);
      const expected = original.state.engine.exportState().accounts.find((a) => a.account === account)!;
      expect(balance).toMatchObject({ cash: expected.cash, reserved: expected.reserved });
    }
    // the restored database takes new orders on top
    await trade(again.client, 14, 2);
    await again.close();
    expect((await verifyOrders(target, recover)).differences).toEqual([]);
  });

  it('restores only into an empty database', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bourse-backup-'));
    dirs.push(dir);
    const file = join(dir, 'empty.backup.gz');
    const db = await makeDb();
    await takeBackup(db, createWriteStream(file), file);
    const notEmpty = await makeDb();
    await expect(restoreDatabase(notEmpty, file)).rejects.toThrow(RestoreError);
    // and the refused restore changed nothing
    expect(await count(notEmpty, 'ops_backups')).toBe(0);
  });
});

/**
 * bench:recovery end to end with a tiny journal, so that it cannot rot: the service writes it, is
 * killed with SIGKILL, and `bourse start --role orders` restarts from a snapshot plus the journal's
 * tail. Only counts are checked: timings and memory are printed by the bench, never asserted.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RecoveryResult } from '../../bench/recovery.ts';
import { describeWithPostgres, serviceUrl } from '../support/services.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMMANDS = 1_500;
const AFTER = 50;

function runBench(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/recovery.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        BENCH_RECOVERY_COMMANDS: String(COMMANDS),
        BENCH_RECOVERY_ACCOUNTS: '40',
        BENCH_RECOVERY_OPEN_ORDERS: '200',
        BENCH_RECOVERY_AFTER: String(AFTER),
        BOURSE_SNAPSHOT_EVERY: '400',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function check(run: { code: number | null; stdout: string; stderr: string }, backend: string): void {
  expect(run.code, run.stderr.slice(-3000)).toBe(0);
  const last = run.stdout.trim().split('\n').at(-1)!;
  const result = (JSON.parse(last) as { recovery: Record<string, RecoveryResult> }).recovery[backend]!;
  expect(result.commands).toBe(COMMANDS);
  // the restart resumed exactly where the killed writer stopped: a snapshot plus the journal after it
  expect(result.restart.snapshotSeq! + result.restart.replayed!).toBe(COMMANDS);
  // every order's key is inside the 24 h window and under the cap, so the restart holds them all
  expect(result.restart.idempotencyKeys).toBe(result.orders);
  expect(result.after.orders).toBe(AFTER);
  expect(result.restart.rssMb).toBeGreaterThan(0);
  expect(result.flowRssMb.length).toBeGreaterThan(0);
  expect(run.stdout).toMatch(/bench:recovery — orders service: 1,500 journaled commands, kill -9/);
}

describe('bench:recovery', () => {
  it('writes a journal, is killed, restarts from a snapshot and the tail, on PGlite', {
    timeout: 300_000,
  }, async () => {
    check(await runBench({ BENCH_BACKENDS: 'pglite' }), 'pglite');
  });
});

describeWithPostgres('bench:recovery on PostgreSQL', () => {
  it('writes a journal, is killed, restarts from a snapshot and the tail', { timeout: 300_000 }, async () => {
    check(
      await runBench({ BENCH_BACKENDS: 'postgres', BENCH_DATABASE_URL: serviceUrl('postgres') }),
      'postgres',
    );
  });
});

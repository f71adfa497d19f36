/**
 * bench:shards end to end with tiny parameters, so that it cannot rot: 1 and then 2 orders shard
 * nodes (plus a standby) as processes, one short step each, and the kill -9 of shard 1's leader
 * under a low rate. Only outcomes are checked (a knee was read, nothing acknowledged was lost, cash
 * and shares were conserved, the standby acknowledged orders after the kill); the figures are the
 * bench's to print, never asserted.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeWithNatsServer } from '../support/nats-cluster.ts';
import { describeWithPostgres, serviceUrl } from '../support/services.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function runBench(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/shards.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describeWithNatsServer('bench:shards', () => {
  describeWithPostgres('bench:shards on PostgreSQL', () => {
    it('sweeps 1 and 2 shard nodes, kills shard 1 leader, loses nothing acknowledged', {
      timeout: 180_000,
    }, async () => {
      const run = await runBench({
        BENCH_DATABASE_URL: serviceUrl('postgres'),
        BENCH_ACCOUNTS: '8',
        BENCH_SYMBOLS: '2',
        BENCH_RATES: '20',
        BENCH_STEP_SECONDS: '1',
        BENCH_WARMUP_SECONDS: '0',
        BENCH_PRIME_SECONDS: '0',
        BENCH_IDLE_SECONDS: '0',
        BENCH_FAILOVER_RATE: '20',
        BENCH_FAILOVER_SECONDS: '3',
      });
      expect(run.code, run.stderr.slice(-3000)).toBe(0);
      const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
        knee: Record<string, number>;
        failoverMs: number | null;
        lostAcked: number;
        conserved: boolean;
        cpuUsPerOrder: Record<string, Record<string, number>>;
      };
      expect(Object.keys(result.knee)).toEqual(['shards1', 'shards2']);
      expect(result.failoverMs).not.toBeNull(); // shard 1's standby acknowledged orders after the kill
      expect(result.lostAcked).toBe(0);
      expect(result.conserved).toBe(true);
      expect(Object.keys(result.cpuUsPerOrder.shards2!)).toEqual(
        expect.arrayContaining(['shard-0a', 'shard-1a', 'shard-1b', 'nats', 'all']),
      );
      expect(run.stdout).toMatch(/kill -9 of shard 1's leader at 20 orders\/s/);
    });
  });
});

/** The harness's promise: a missing service is a named skip on a laptop and a failure in CI. */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { needs } from './services.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const vitest = createRequire(import.meta.url).resolve('vitest/vitest.mjs');
const DOWN = 'nats://127.0.0.1:1';

function runFixtures(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  // The outer run's VITEST_* variables would make the inner vitest think it is a worker.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
  const child = spawn(
    process.execPath,
    [vitest, 'run', '--config', 'test/support/fixtures/vitest.config.ts', '--reporter', 'verbose'],
    { cwd: root, env: { ...clean, NO_COLOR: '1', ...env } },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

describe('test harness', () => {
  it('skips suites whose service is down and names them at the end', async () => {
    const { code, out } = await runFixtures({ CI: 'false', TEST_NATS_URL: DOWN });
    expect(code, out).toBe(0);
    expect(out).toContain(
      `Skipped (no NATS JetStream at ${DOWN}): fixture suite needing NATS, fixture suite > needs NATS in one test`,
    );
  });

  // providers spell it differently: any non-empty CI but `false`/`0` is CI
  it.each(['true', '1', 'yes'])('fails them instead when CI=%s', async (ci) => {
    const { code, out } = await runFixtures({ CI: ci, TEST_NATS_URL: DOWN });
    expect(code, out).toBe(1);
    expect(out).toMatch(
      /no NATS JetStream at nats:\/\/127\.0\.0\.1:1 .*CI is set, so this suite fails rather than skips/,
    );
    expect(out).toMatch(/CI is set, so this test fails rather than skips/);
    expect(out).not.toContain('Skipped (');
  });

  it('skips when CI=0', async () => {
    const { code, out } = await runFixtures({ CI: '0', TEST_NATS_URL: DOWN });
    expect(code, out).toBe(0);
    expect(out).toContain('Skipped (no NATS JetStream');
  });

  it('says nothing about skips when every service is there', async (ctx) => {
    needs(ctx, 'nats');
    const { code, out } = await runFixtures({ CI: 'true' });
    expect(code, out).toBe(0);
    expect(out).not.toContain('Skipped (');
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The front door: `bourse start` on the embedded defaults (PGlite under BOURSE_DATA_DIR, memory
 * bus), as `npm start` runs it on a fresh machine. Real process, real signals.
 */

const ROOT = new URL('../../', import.meta.url).pathname;

interface Proc {
  child: ChildProcess;
  url: Promise<string>;
  output: () => string;
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();

function startBourse(env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bourse.ts', 'start'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Bourse is running \(all\) at (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`bourse exited early (${code}):\n${out}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url, output: () => out, exited };
}

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url);
  expect(res.ok, `${url} → ${res.status}`).toBe(true);
  return (await res.json()) as T;
}

async function waitFor<T>(fn: () => Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('bourse start (embedded defaults)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    // a failed assertion must not leave a server running
    for (const c of children) c.kill('SIGKILL');
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('serves a live demo market, stops cleanly on SIGTERM and recovers it on restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'bourse-start-'));
    dirs.push(dataDir);
    const env = { BOURSE_DATA_DIR: dataDir, BOURSE_SEED: '7' };

    const first = startBourse(env);
    const url = await first.url;
    const health = await json<{ status: string; db: string; bus: string }>(`${url}/healthz`);
    expect(health).toMatchObject({ status: 'ok', db: 'pglite', bus: 'memory' });

    // the demo market maker quotes both sides and the taker trades
    const book = await waitFor(async () => {
      const b = await json<{ bids: unknown[]; asks: unknown[] }>(
        `${url}/internal/orders/symbols/AAPL/book?levels=5`,
      );
      return b.bids.length > 0 && b.asks.length > 0 ? b : undefined;
    }, 'a two-sided AAPL book');
    expect(book.bids.length).toBeGreaterThan(0);
    const trades = await waitFor(async () => {
      const all = await Promise.all(
        ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'TSLA', 'SPY'].map((s) =>
          json<{ items: unknown[] }>(`${url}/internal/orders/symbols/${s}/trades?limit=5`),
        ),
      );
      const n = all.reduce((sum, p) => sum + p.items.length, 0);
      return n > 0 ? n : undefined;
    }, 'a demo trade');
    expect(trades).toBeGreaterThan(0);

    const before = await json<{ lastSeq: number }>(`${url}/internal/orders/exchange`);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).not.toMatch(/shutdown failed/);

    // same data dir: the journal is replayed and nothing committed is lost
    const second = startBourse({ ...env, BOURSE_DEMO: 'off' });
    const url2 = await second.url;
    const after = await json<{ lastSeq: number }>(`${url2}/internal/orders/exchange`);
    expect(after.lastSeq).toBeGreaterThanOrEqual(before.lastSeq);
    const instruments = await json<{ symbol: string }[]>(`${url2}/internal/orders/instruments`);
    expect(instruments.map((i) => i.symbol).sort()).toEqual(['AAPL', 'AMZN', 'MSFT', 'NVDA', 'SPY', 'TSLA']);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('refuses a bad configuration naming the variable', async () => {
    const proc = startBourse({ PORT: 'eighty' });
    await expect(proc.url).rejects.toThrow(/PORT="eighty"/);
    expect(await proc.exited).toBe(1);
  });
});

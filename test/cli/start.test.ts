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
    // FIX is served and tested in test/fix/bourse-start.test.ts
    env: { ...process.env, PORT: '0', BOURSE_FIX_PORT: 'off', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
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

  it('serves a live demo market through the gateway, funds a new user, stops cleanly and recovers', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'bourse-start-'));
    dirs.push(dataDir);
    const env = { BOURSE_DATA_DIR: dataDir, BOURSE_SEED: '7' };

    const first = startBourse(env);
    const url = await first.url;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    // a newcomer: register, log in, and find paper cash in the account (demo mode)
    const password = 'correct horse battery staple';
    const reg = await fetch(`${url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'newcomer', email: 'newcomer@example.com', password }),
    });
    expect(reg.status).toBe(201);
    const login = await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'newcomer', password }),
    });
    expect(login.status).toBe(200);
    const { access_token } = (await login.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${access_token}` };
    const get = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${url}${path}`, { headers: auth });
      expect(res.status, `${path} → ${res.status}`).toBe(200);
      return (await res.json()) as T;
    };
    const account = await waitFor(async () => {
      const a = await get<{ cash: string }>('/v2/account');
      return a.cash === '0.00' ? undefined : a;
    }, 'paper cash');
    expect(account.cash).toBe('100000.00');

    // the demo market maker quotes both sides and the taker trades
    type Snap = { latest_trade: unknown; book: { bids: unknown[]; asks: unknown[] } };
    const symbols = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'TSLA', 'SPY'];
    const traded = await waitFor(async () => {
      const { snapshots } = await get<{ snapshots: Record<string, Snap> }>(
        `/market-data?symbols=${symbols.join(',')}`,
      );
      const live = Object.values(snapshots).filter((x) => x.book.bids.length > 0 && x.book.asks.length > 0);
      const withTrades = live.filter((x) => x.latest_trade !== null);
      return live.length === symbols.length && withTrades.length > 0 ? withTrades.length : undefined;
    }, 'two-sided books and a demo trade');
    expect(traded).toBeGreaterThan(0);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).not.toMatch(/shutdown failed/);

    // same data dir: the journal is replayed and nothing committed is lost
    const second = startBourse({ ...env, BOURSE_DEMO: 'off' });
    const url2 = await second.url;
    const login2 = await fetch(`${url2}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'newcomer', password }),
    });
    expect(login2.status).toBe(200);
    const token2 = ((await login2.json()) as { access_token: string }).access_token;
    const res = await fetch(`${url2}/v2/account`, { headers: { authorization: `Bearer ${token2}` } });
    expect(((await res.json()) as { cash: string }).cash).toBe('100000.00');
    const assets = await fetch(`${url2}/v2/assets`, { headers: { authorization: `Bearer ${token2}` } });
    const listed = ((await assets.json()) as { symbol: string }[]).map((a) => a.symbol).sort();
    expect(listed).toEqual([...symbols].sort());
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('refuses a bad configuration naming the variable', async () => {
    const proc = startBourse({ PORT: 'eighty' });
    await expect(proc.url).rejects.toThrow(/PORT="eighty"/);
    expect(await proc.exited).toBe(1);
  });
});

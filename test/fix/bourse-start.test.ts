/**
 * The front door: `bourse start` (all-in-one, embedded defaults) serves FIX 4.4 on
 * BOURSE_FIX_PORT next to the REST API, on the same orders service. A real process, a real FIX
 * client, an API key made through the REST API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FixClient } from './client.ts';
import { isReport, newOrder } from './messages.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const ROOT = new URL('../../', import.meta.url).pathname;
const ADMIN_PASSWORD = 'quiet lantern over seven hills';

describe('bourse start serves FIX', () => {
  let child: ChildProcess | undefined;
  let dataDir: string | undefined;
  afterAll(async () => {
    child?.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('takes orders over FIX next to the REST API, and stops cleanly', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'bourse-fix-'));
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bourse.ts', 'start'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: '0',
        BOURSE_FIX_PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        BOURSE_DATA_DIR: dataDir,
        BOURSE_DEMO: 'off',
        BOURSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let out = '';
    const started = new Promise<{ url: string; fixPort: number }>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        const url = /Bourse is running \(all\) at (http:\/\/\S+)/.exec(out)?.[1];
        const port = /FIX 4\.4 order entry on port (\d+)/.exec(out)?.[1];
        if (url && port) resolve({ url: url.replace('localhost', '127.0.0.1'), fixPort: Number(port) });
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`bourse exited early (${code}):\n${out}`)));
    });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const { url, fixPort } = await started;

    const call = async <T>(method: string, path: string, body?: unknown, token?: string): Promise<T> => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBeLessThan(300);
      return (await res.json()) as T;
    };
    const login = async (username: string, password: string) =>
      (await call<{ access_token: string }>('POST', '/auth/login', { username, password })).access_token;

    const admin = await login('admin', ADMIN_PASSWORD);
    await call('POST', '/v1/admin/instruments', { symbol: 'FIXCO', reference_price: '50.00' }, admin);
    const password = 'correct horse battery staple';
    const user = await call<{ id: string }>('POST', '/users', {
      username: 'fixtrader',
      email: 'fixtrader@example.com',
      password,
    });
    await call(
      'POST',
      '/v1/admin/funding',
      { account_id: user.id, direction: 'deposit', amount: '1000.00' },
      admin,
    );
    const token = await login('fixtrader', password);
    const key = await call<{ id: string; secret: string }>('POST', '/api-keys', { name: 'fix' }, token);

    const c = await FixClient.connect({
      port: fixPort,
      senderCompId: 'FRONT',
      username: key.id,
      password: key.secret,
    });
    c.send('D', newOrder('front-1', { symbol: 'FIXCO', qty: 2, price: '49.50', tif: '1' }));
    const placed = await c.waitFor(isReport('front-1', '0'), 'New');
    expect(placed.get(44)).toBe('49.50');

    // the same order through the REST API
    const viaRest = await call<{ id: string; limit_price: string; client_order_id: string; status: string }>(
      'GET',
      '/v2/orders:by_client_order_id?client_order_id=front-1',
      undefined,
      token,
    );
    expect(viaRest).toMatchObject({ client_order_id: 'front-1', limit_price: '49.50', status: 'new' });
    const account = await call<{ cash: string; buying_power: string }>(
      'GET',
      '/v2/account',
      undefined,
      token,
    );
    expect(account.cash).toBe('1000.00');

    // a clean stop logs the FIX session out
    proc.kill('SIGTERM');
    const bye = await c.waitFor((m) => m.msgType === '5', 'the Logout');
    expect(bye.get(58)).toBe('Bourse is shutting down');
    expect(await exited).toBe(0);
  });
});

/**
 * BOURSE_ORDERS_SHARD_URLS (issue 11): a sharded deployment names each shard's instances, shards
 * separated by `;`, a shard's instances by `,`. What is accepted, what is refused at start, and that
 * a role refuses it before it opens anything.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ordersShardUrls } from '../../src/cli/start.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('ordersShardUrls', () => {
  it('reads each shard’s instances in shard order, spaces and a trailing comma tolerated', () => {
    expect(
      ordersShardUrls({ BOURSE_ORDERS_SHARD_URLS: ' http://a0:1, http://b0:1 ;http://a1:1,http://b1:1,' }),
    ).toEqual([
      ['http://a0:1', 'http://b0:1'],
      ['http://a1:1', 'http://b1:1'],
    ]);
    expect(ordersShardUrls({ BOURSE_ORDERS_SHARD_URLS: 'https://only:8443' })).toEqual([
      ['https://only:8443'],
    ]);
  });

  it('is undefined when unset or empty: the deployment is not sharded', () => {
    expect(ordersShardUrls({})).toBeUndefined();
    expect(
      ordersShardUrls({ BOURSE_ORDERS_SHARD_URLS: '  ', BOURSE_ORDERS_URLS: 'http://o' }),
    ).toBeUndefined();
  });

  it.each([
    [{ BOURSE_ORDERS_SHARD_URLS: 'http://a0;;http://a2' }, /shard 1 lists no URL/],
    [{ BOURSE_ORDERS_SHARD_URLS: 'http://a0;' }, /shard 1 lists no URL/],
    [{ BOURSE_ORDERS_SHARD_URLS: 'http://a0;a1:8080' }, /shard 1: "a1:8080" is not (a|an http\(s\)) URL/],
    [{ BOURSE_ORDERS_SHARD_URLS: 'http://a0;ftp://a1' }, /shard 1: "ftp:\/\/a1" is not an http\(s\) URL/],
    [
      { BOURSE_ORDERS_SHARD_URLS: 'http://a0,http://b;http://b' },
      /"http:\/\/b" is listed for shard 0 and shard 1/,
    ],
    [{ BOURSE_ORDERS_SHARD_URLS: 'http://a0;http://a1', BOURSE_ORDERS_URLS: 'http://o' }, /both set/],
    [
      { BOURSE_ORDERS_SHARD_URLS: 'http://a0;http://a1', BOURSE_ORDERS_SHARDS: '3' },
      /lists 2 shard\(s\) but BOURSE_ORDERS_SHARDS is 3/,
    ],
  ])('refuses %j', (env, message) => {
    expect(() => ordersShardUrls(env)).toThrow(message);
  });

  it('agrees with a matching BOURSE_ORDERS_SHARDS', () => {
    expect(
      ordersShardUrls({ BOURSE_ORDERS_SHARD_URLS: 'http://a0;http://a1', BOURSE_ORDERS_SHARDS: '2' }),
    ).toHaveLength(2);
  });
});

describe('bourse start --role gateway with a bad BOURSE_ORDERS_SHARD_URLS', () => {
  it('exits 1 naming the variable and the shard', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/bourse.ts', 'start', '--role', 'gateway'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
          BOURSE_SECRET: 'a test secret of more than thirty-two characters',
          BOURSE_ORDERS_SHARD_URLS: 'http://127.0.0.1:1;',
          BOURSE_USERS_URLS: 'http://127.0.0.1:2',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(out).toMatch(/BOURSE_ORDERS_SHARD_URLS: shard 1 lists no URL/);
    expect(code).toBe(1);
  });
});

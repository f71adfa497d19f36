/**
 * Mutual TLS between processes (BOURSE_INTERNAL_TLS_CA / _CERT / _KEY): a `--role orders` server on
 * a real port refuses a client without a certificate, or with one another CA signed, before any
 * HTTP; with the deployment's certificate it still needs the internal token; with both it serves.
 * The certificates are made here with the openssl CLI, for this run only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { internalCredential } from '../../src/cli/internal-credential.ts';
import { type Running, start } from '../../src/cli/start.ts';
import { resolveGatewayConfig } from '../../src/gateway/config.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { BALANCED_BASE_URL, balancedFetch } from '../../src/platform/http/upstream/fetch.ts';
import { createInstancePool } from '../../src/platform/http/upstream/http.ts';
import { createUpstream } from '../../src/platform/http/upstream/upstream.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { httpOrdersClient, ROLE_HEADER, resendableOrdersRequest } from '../../src/services/orders/client.ts';

const logger = createLogger({ level: 'silent' });
const TOKEN = 'tls-test-internal-token-0123456789abcdef';

/** A CA, and a certificate it signs for localhost / 127.0.0.1 (server and client alike). */
async function makePki(dir: string, name: string): Promise<{ ca: string; cert: string; key: string }> {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    `${name}-ca.key`,
    '-out',
    `${name}-ca.pem`,
    '-days',
    '1',
    '-subj',
    `/CN=${name} CA`,
  );
  ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=localhost');
  await writeFile(join(dir, `${name}.ext`), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  ssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${name}-ca.pem`,
    '-CAkey',
    `${name}-ca.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
  );
  return { ca: join(dir, `${name}-ca.pem`), cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
}

describe('mutual TLS between processes (--role orders)', () => {
  let dir: string;
  let orders: Running;
  let pki: { ca: string; cert: string; key: string };
  let rogue: { ca: string; cert: string; key: string };
  const agents: Agent[] = [];

  const agent = async (files: { ca: string; cert?: string; key?: string }): Promise<Agent> => {
    const a = new Agent({
      connect: {
        ca: await readFile(files.ca),
        ...(files.cert && { cert: await readFile(files.cert) }),
        ...(files.key && { key: await readFile(files.key) }),
      },
    });
    agents.push(a);
    return a;
  };
  const get = (path: string, dispatcher: Agent, headers: Record<string, string> = {}) =>
    undiciFetch(`${orders.url}${path}`, { dispatcher, headers });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bourse-tls-'));
    pki = await makePki(dir, 'bourse');
    rogue = await makePki(dir, 'rogue');
    const config = loadConfig({
      BOURSE_DATA_DIR: join(dir, 'data'),
      BOURSE_DEMO: 'off',
      BOURSE_FIX_PORT: 'off',
      PORT: '0',
      HOST: '127.0.0.1',
      BOURSE_INTERNAL_TOKEN: TOKEN,
      BOURSE_INTERNAL_TLS_CA: pki.ca,
      BOURSE_INTERNAL_TLS_CERT: pki.cert,
      BOURSE_INTERNAL_TLS_KEY: pki.key,
    });
    orders = await start(config, logger, 'orders');
  }, 120_000);
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await orders?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves HTTPS only', async () => {
    expect(orders.url).toMatch(/^https:\/\/localhost:\d+$/);
    const plain = orders.url.replace('https:', 'http:');
    const res = await fetch(`${plain}/healthz`).catch((err: Error) => err);
    // a TLS server answers a plain HTTP request with nothing usable
    expect(res instanceof Error || res.status === 400).toBe(true);
  });

  it('refuses a client without a certificate, and one signed by another CA', async () => {
    await expect(
      get('/healthz', await agent({ ca: pki.ca }), { 'x-bourse-internal-token': TOKEN }),
    ).rejects.toThrow();
    await expect(
      get('/healthz', await agent({ ca: pki.ca, cert: rogue.cert, key: rogue.key }), {
        'x-bourse-internal-token': TOKEN,
      }),
    ).rejects.toThrow();
  });

  it('with the right certificate: 401 without the token, 200 with it', async () => {
    const trusted = await agent(pki);
    const anonymous = await get('/internal/orders/instruments', trusted);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { type: string }).type).toBe(
      'https://bourse.dev/problems/internal-token',
    );
    const ok = await get('/internal/orders/instruments', trusted, { 'x-bourse-internal-token': TOKEN });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual([]);
  });

  it("is what the other roles' typed clients and the gateway's pools speak", async () => {
    const config = loadConfig({
      BOURSE_INTERNAL_TOKEN: TOKEN,
      BOURSE_INTERNAL_TLS_CA: pki.ca,
      BOURSE_INTERNAL_TLS_CERT: pki.cert,
      BOURSE_INTERNAL_TLS_KEY: pki.key,
    });
    const credential = await internalCredential(config, 'market-data');
    // the other roles' typed clients go through their balancer, whose pools present the certificate
    const upstream = createUpstream(
      'orders',
      [orders.url],
      resolveGatewayConfig(),
      logger,
      {},
      credential.tls,
      ROLE_HEADER,
    );
    try {
      const client = httpOrdersClient(BALANCED_BASE_URL, {
        internalToken: credential.send,
        fetch: balancedFetch(upstream, { retry: resendableOrdersRequest }),
      });
      expect(await client.exchangeStatus()).toMatchObject({ marketHalted: false });
    } finally {
      await upstream.close();
    }

    const pool = createInstancePool(orders.url, 1, credential.tls);
    try {
      const res = await pool.send(
        { method: 'GET', path: '/internal/orders/exchange', headers: { 'x-bourse-internal-token': TOKEN } },
        { requestId: 'tls-test' },
        5_000,
      );
      expect(res.status).toBe(200);
    } finally {
      await pool.close();
    }
  });
});

/**
 * Finding the real services (no vitest imports here: global-setup runs it in the main process).
 * URLs come from TEST_DATABASE_URL, TEST_REDIS_URL and TEST_NATS_URL, defaulting to localhost.
 */
import { createConnection } from 'node:net';
import pg from 'pg';
import type {} from 'vitest';

export type Service = 'postgres' | 'redis' | 'nats';

export interface ServiceStatus {
  url: string;
  /** Why it is unusable; undefined when it is up. */
  problem: string | undefined;
}

export type ServiceStatuses = Record<Service, ServiceStatus>;

export interface SkipRecord {
  service: Service;
  url: string;
  suite: string;
}

// What global-setup hands to the workers.
declare module 'vitest' {
  export interface ProvidedContext {
    bourseServices: ServiceStatuses;
    bourseSkipLog: string;
  }
}

export const serviceUrls: Readonly<Record<Service, string>> = {
  postgres: process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
  redis: process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379',
  nats: process.env.TEST_NATS_URL || 'nats://127.0.0.1:4222',
};

export const serviceNames: Readonly<Record<Service, string>> = {
  postgres: 'PostgreSQL',
  redis: 'Redis',
  nats: 'NATS JetStream',
};

const PROBE_TIMEOUT_MS = 3000;

/** Run once per test run, by global-setup.ts; workers read the result through inject(). */
export async function probeServices(): Promise<ServiceStatuses> {
  const [postgres, redis, nats] = await Promise.all([
    probe(serviceUrls.postgres, probePostgres),
    probe(serviceUrls.redis, (url) => probeLine(url, 6379, 'PING\r\n', (line) => line.startsWith('+PONG'))),
    // NATS greets with INFO {json}; JetStream must be on, or every bus test would fail obscurely.
    probe(serviceUrls.nats, (url) =>
      probeLine(
        url,
        4222,
        '',
        (line) => line.startsWith('INFO ') && JSON.parse(line.slice(5)).jetstream === true,
      ),
    ),
  ]);
  return { postgres, redis, nats };
}

async function probe(url: string, check: (url: string) => Promise<void>): Promise<ServiceStatus> {
  try {
    await check(url);
    return { url, problem: undefined };
  } catch (err) {
    return { url, problem: (err as Error).message || String(err) };
  }
}

async function probePostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => {});
  }
}

/** Connects, optionally sends a line, and checks the first line the server answers. */
function probeLine(
  url: string,
  defaultPort: number,
  send: string,
  ok: (line: string) => boolean,
): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: hostname, port: Number(port) || defaultPort });
    socket.setTimeout(PROBE_TIMEOUT_MS, () => socket.destroy(new Error('no answer (timeout)')));
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('closed without answering'))); // no-op once settled
    socket.on('connect', () => send && socket.write(send));
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      const end = buffer.indexOf('\r\n');
      if (end < 0) return;
      const line = buffer.slice(0, end);
      socket.destroy();
      let good = false;
      try {
        good = ok(line);
      } catch {}
      if (good) resolve();
      else reject(new Error(`unexpected answer: ${line.slice(0, 120)}`));
    });
  });
}

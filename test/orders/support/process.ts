/** The orders service as a real child process (`bourse start --role orders`), for kill -9 tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const TARGET = process.env.BOURSE_CRASH_TARGET === 'fixture' ? 'fixture' : 'cli';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The internal token the spawned `--role orders` process requires (it refuses to start without one). */
export const TEST_INTERNAL_TOKEN = 'orders-test-internal-token-0123456789abcdef';

export interface Child {
  process: ChildProcess;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** called with every chunk of output as it arrives */
  onOutput?: (chunk: string) => void;
}

/** `role`: another `bourse start --role` than orders (the fixture target is orders only) */
export function spawnService(
  databaseUrl: string,
  port: number,
  extraEnv: NodeJS.ProcessEnv = {},
  role = 'orders',
): Child {
  const args =
    TARGET === 'cli' || role !== 'orders'
      ? ['--import', 'tsx', 'src/cli/bourse.ts', 'start', '--role', role]
      : ['--import', 'tsx', 'test/orders/fixtures/orders-server.ts'];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    BOURSE_DEMO: 'off',
    LOG_LEVEL: 'warn',
    BOURSE_INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
    ...extraEnv,
  };
  // the machine's NATS and Redis only when asked for (a shard node needs the bus)
  if (extraEnv.NATS_URL === undefined) delete env.NATS_URL;
  if (extraEnv.REDIS_URL === undefined) delete env.REDIS_URL;
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const handle: Child = {
    process: child,
    output,
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  };
  const take = (d: Buffer) => {
    const text = d.toString();
    output.push(text);
    handle.onOutput?.(text);
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  return handle;
}

export async function waitReady(child: Child, port: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`orders service did not become ready (${TARGET}):\n${child.output.join('')}`);
}

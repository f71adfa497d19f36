/**
 * The system under test as users run it: `bourse start` (the real CLI) in a child process of its
 * own, so that its event loop, CPU and GC are not the load generator's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpuMsOf } from './proc.ts';

const CLI = fileURLToPath(new URL('../../src/cli/bourse.ts', import.meta.url));

export interface BourseProcess {
  /** base URL of what the process serves (the gateway for `all`, the service for a role) */
  url: string;
  pid: number;
  /** CPU time (user + system) the process has used so far, ms */
  cpuMs(): Promise<number>;
  /** SIGTERM (graceful: in-flight commits finish), SIGKILL after 30 s */
  stop(): Promise<void>;
}

export async function startBourse(
  role: 'all' | 'orders',
  env: Record<string, string>,
  timeoutMs = 180_000,
  /** sees every line the process writes (its log), e.g. to read what a start took */
  onLine?: (line: string) => void,
): Promise<BourseProcess> {
  // BENCH_SERVER_NODE_ARGS: extra Node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=prof"
  // (Node refuses --cpu-prof in NODE_OPTIONS); the profile is written when the server stops
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', CLI, 'start', '--role', role], {
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      tail.push(line);
      onLine?.(line);
    }
    tail.splice(0, Math.max(0, tail.length - 40));
    if (process.env.BENCH_VERBOSE) process.stderr.write(chunk);
  };
  child.stderr.on('data', keep);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`bourse start --role ${role}: not up after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n--- its last output ---\n${tail.join('\n')}`));
    };
    child.stdout.on('data', (chunk: Buffer) => {
      keep(chunk);
      const m = /Bourse is running \([\w-]+\) at http:\/\/[^:\s]+:(\d+)/.exec(chunk.toString());
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    });
    child.once('exit', (code) => fail(new Error(`bourse start --role ${role} exited with code ${code}`)));
  });
  return { url, pid: child.pid!, cpuMs: () => cpuMsOf(child.pid!), stop: () => stop(child) };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.removeAllListeners('exit');
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

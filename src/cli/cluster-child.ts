/**
 * A child process of a local cluster: its output appended to a log file, the tail kept for error
 * messages, and a stop that cannot hang (SIGTERM, then SIGKILL after a bound).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** resolves with the exit code (null when ended by a signal) */
  readonly exited: Promise<number | null>;
  running(): boolean;
  /** the last lines it printed */
  tail(): string;
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs` */
  stop(graceMs?: number): Promise<void>;
}

const TAIL_LINES = 40;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** If this process ends without stopping its children (a crash, process.exit), they end with it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of live) p.kill('SIGKILL');
  });
}

export function spawnChild(
  name: string,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string },
): Child {
  installExitHook();
  const proc = spawn(command, args, {
    env: options.env ?? process.env,
    ...(options.cwd && { cwd: options.cwd }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  live.add(proc);
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    log.write(chunk);
    for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(line);
    if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => {
      done = true;
      live.delete(proc);
      log.end();
      resolve(code);
    });
  });
  const pid = proc.pid;
  return {
    name,
    pid,
    exited,
    running: () => !done,
    tail: () => lines.join('\n'),
    signal: (signal) => {
      if (!done) proc.kill(signal);
    },
    stop: async (graceMs = 10_000) => {
      if (done) return;
      proc.kill('SIGTERM');
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), graceMs);
      });
      const outcome = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (outcome === 'late') {
        proc.kill('SIGKILL');
        await exited;
      }
    },
  };
}

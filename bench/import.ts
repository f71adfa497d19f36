/**
 * `npm run bench:import` — a large price file through `bourse import` into a running Bourse, end
 * to end (CLI → gateway → market-data → database), measuring memory: the point is that neither the
 * CLI nor the server holds the file.
 *
 * Generates a long-format file (symbol,date,price; BENCH_IMPORT_MB megabytes, default 200) in a
 * temporary directory without holding it, starts `bourse start` (demo off) as a child process on
 * PostgreSQL at TEST_DATABASE_URL in a throwaway database (or embedded PGlite with
 * BENCH_IMPORT_DB=pglite), runs `bourse import` on the file (BENCH_IMPORT_DRY=1: --dry-run), and
 * samples both processes' resident memory (VmRSS, and the kernel's high-water mark VmHWM) from
 * /proc every 100 ms.
 *
 * Prints a table, then a last line of JSON:
 *   {"fileMB":N,"rows":N,"seconds":N,"rowsPerSec":N,"serverBaselineMB":N,"serverPeakMB":N,"cliPeakMB":N}
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { formatTable } from './lib/table.ts';

const MB = Number(process.env.BENCH_IMPORT_MB ?? 200);
const DRY = process.env.BENCH_IMPORT_DRY === '1';
const USE_PG = (process.env.BENCH_IMPORT_DB ?? 'postgres') !== 'pglite';
const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PASSWORD = 'correct-horse-battery-staple-42';
const SYMBOLS = 500;

async function generate(file: string, bytes: number): Promise<number> {
  const out = createWriteStream(file);
  out.write('symbol,date,price\n');
  let written = 18;
  let rows = 0;
  const start = Date.UTC(1980, 0, 1);
  while (written < bytes) {
    const lines: string[] = [];
    for (let i = 0; i < 10_000; i++, rows++) {
      const day = new Date(start + Math.floor(rows / SYMBOLS) * 86_400_000).toISOString().slice(0, 10);
      lines.push(`SYM${rows % SYMBOLS},${day},${(10 + ((rows * 7919) % 100_000) / 100).toFixed(2)}\n`);
    }
    const chunk = lines.join('');
    written += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return rows;
}

async function memoryOf(pid: number): Promise<{ rss: number; hwm: number } | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

function bourse(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/bourse.ts', ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bourse-bench-import-'));
  const file = join(dir, 'prices.csv');
  const database = `bench_import_${process.pid}`;
  const admin = USE_PG ? new pg.Client({ connectionString: PG_URL }) : null;
  let server: ChildProcess | undefined;
  try {
    const rows = await generate(file, MB * 1e6);
    const size = (await stat(file)).size;
    console.log(`generated ${(size / 1e6).toFixed(0)} MB, ${rows.toLocaleString('en-US')} rows, in ${file}`);

    const env: Record<string, string> = {
      PORT: '0',
      HOST: '127.0.0.1',
      BOURSE_DEMO: 'off',
      BOURSE_DATA_DIR: join(dir, 'data'),
      BOURSE_ADMIN_PASSWORD: PASSWORD,
    };
    if (admin) {
      await admin.connect();
      await admin.query(`CREATE DATABASE ${database}`);
      const url = new URL(PG_URL);
      url.pathname = `/${database}`;
      env.DATABASE_URL = url.toString();
    }
    server = bourse(['start'], env);
    let output = '';
    server.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
    });
    server.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /running \(all\) at (http:\/\/\S+)/.exec(output);
        if (m) {
          clearInterval(timer);
          resolve(m[1]!);
        }
      }, 100);
      server!.once('exit', (code) => {
        clearInterval(timer);
        reject(new Error(`bourse start exited ${code}`));
      });
    });
    await new Promise((r) => setTimeout(r, 1000));
    const baseline = (await memoryOf(server.pid!))!;

    const started = performance.now();
    const cli = bourse(['import', file, ...(DRY ? ['--dry-run'] : [])], {
      BOURSE_URL: url,
      BOURSE_ADMIN_PASSWORD: PASSWORD,
    });
    let summary = '';
    cli.stdout!.on('data', (d: Buffer) => {
      summary += d.toString();
    });
    cli.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    let serverPeak = baseline.rss;
    let cliPeak = 0;
    const sampler = setInterval(async () => {
      const s = await memoryOf(server!.pid!);
      const c = await memoryOf(cli.pid!);
      if (s) serverPeak = Math.max(serverPeak, s.rss, s.hwm);
      if (c) cliPeak = Math.max(cliPeak, c.rss, c.hwm);
    }, 100);
    const [code] = (await once(cli, 'exit')) as [number];
    clearInterval(sampler);
    const seconds = (performance.now() - started) / 1000;
    const final = await memoryOf(server.pid!);
    if (final) serverPeak = Math.max(serverPeak, final.hwm);
    console.log(summary.split('\n').slice(0, 3).join('\n'));
    if (code !== 0) throw new Error(`bourse import exited ${code}`);

    const result = {
      fileMB: Math.round(size / 1e6),
      rows,
      dryRun: DRY,
      db: USE_PG ? 'postgres' : 'pglite',
      seconds: Math.round(seconds * 10) / 10,
      rowsPerSec: Math.round(rows / seconds),
      serverBaselineMB: Math.round(baseline.rss),
      serverPeakMB: Math.round(serverPeak),
      cliPeakMB: Math.round(cliPeak),
    };
    console.log(
      formatTable(
        ['file', 'rows', 'db', 'seconds', 'rows/s', 'server RSS before', 'server peak RSS', 'CLI peak RSS'],
        [
          [
            `${result.fileMB} MB`,
            rows.toLocaleString('en-US'),
            `${result.db}${DRY ? ' (dry run)' : ''}`,
            String(result.seconds),
            result.rowsPerSec.toLocaleString('en-US'),
            `${result.serverBaselineMB} MB`,
            `${result.serverPeakMB} MB`,
            `${result.cliPeakMB} MB`,
          ],
        ],
      ),
    );
    console.log(JSON.stringify(result));
  } finally {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
    if (admin) {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
      await admin.end();
    }
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

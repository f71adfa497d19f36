/**
 * A real Bourse for the browser tests: `node bin/bourse.js start` as a child process on a free
 * port, with a fresh data directory, the demo market and an admin; and a Chromium from the
 * machine (playwright-core drives it, it downloads nothing).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { isCi } from '../support/ci.ts';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const ARTIFACTS = join(ROOT, 'test/artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ADMIN_PASSWORD = 'operator password for e2e';

/** Chromium present? In CI its absence fails the suite; on a laptop the suite is skipped. */
export function chromiumOrSkip(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (isCi()) throw new Error(`CI: no Chromium at ${CHROMIUM} (the browser tests need it)`);
  console.warn(`[e2e] skipped: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH, or install chromium)`);
  return false;
}

/** Builds web/dist when it is missing or stale (cheap otherwise). */
export function buildWeb(): void {
  const r = spawnSync(process.execPath, ['scripts/build-web.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build-web failed:\n${r.stdout}\n${r.stderr}`);
  process.stdout.write(r.stdout);
}

export interface Stack {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bourse-e2e-'));
  const child: ChildProcess = spawn(process.execPath, ['bin/bourse.js', 'start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      BOURSE_FIX_PORT: 'off',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      BOURSE_DATA_DIR: dataDir,
      BOURSE_DEMO: 'on',
      BOURSE_SEED: '11',
      BOURSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      // several users sign up and log in from one address within a minute
      BOURSE_RATE_LOGIN: '100/10',
      BOURSE_RATE_LOGIN_IP: '100/1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Bourse is running \(all\) at (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1].replace('localhost', '127.0.0.1'));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`bourse exited early (${code}):\n${out}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'bourse-e2e-chromium-'));
  await mkdir(ARTIFACTS, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-quic',
      '--disable-sync',
    ],
    viewport: { width: 1440, height: 900 },
    colorScheme: 'dark',
    acceptDownloads: true,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

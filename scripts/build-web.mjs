#!/usr/bin/env node
/**
 * Builds the web terminal (web/ → web/dist) with Vite's JS API, but only when web/dist is missing
 * or older than the newest source file under web/ — so `npm start` can call it every time for
 * almost nothing. `--force` always builds.
 */
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = join(dirname(fileURLToPath(import.meta.url)), '..', 'web');
const DIST = join(WEB, 'dist');
const SKIP = new Set(['dist', 'node_modules']);

/** Newest modification time of any file under dir (skipping the output). */
async function newest(dir) {
  let max = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) max = Math.max(max, await newest(path));
    else if (!entry.name.endsWith('.test.tsx') && !entry.name.endsWith('.test.ts'))
      max = Math.max(max, (await stat(path)).mtimeMs);
  }
  return max;
}

async function builtAt() {
  try {
    return (await stat(join(DIST, 'index.html'))).mtimeMs;
  } catch {
    return 0;
  }
}

const force = process.argv.includes('--force');
const [source, output] = await Promise.all([newest(WEB), builtAt()]);
if (!force && output > 0 && output >= source) {
  console.log('web terminal: up to date (web/dist)');
} else {
  const started = Date.now();
  let vite;
  try {
    vite = await import('vite');
  } catch {
    // a production install without dev dependencies: serve what is there (or the "not built" page)
    console.warn('web terminal: vite is not installed, not building web/dist');
    process.exit(0);
  }
  await vite.build({ configFile: join(WEB, 'vite.config.ts'), logLevel: 'warn' });
  console.log(`web terminal: built web/dist in ${Date.now() - started} ms`);
}

#!/usr/bin/env node
// `npm test` after `npm run check`: the vitest suites (unit, component and integration, on PGlite
// and on the real services when reachable), then the browser suite (the web terminal in headless
// Chromium against a real `bourse start`; `npm run test:e2e` runs it alone). Extra arguments go to
// the first vitest run.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const vitest = createRequire(import.meta.url).resolve('vitest/vitest.mjs');
let current;

function run(args) {
  return new Promise((resolve) => {
    current = spawn(process.execPath, args, { stdio: 'inherit' });
    current.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

// Ctrl-C reaches the children through the terminal's process group; a plain `kill` of this
// runner (SIGTERM) is passed on so vitest can stop its workers.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => current?.kill(signal));

// any non-empty CI but `false`/`0` is CI (the same rule as test/support/ci.ts and .ci/run)
const ciValue = (process.env.CI ?? '').trim().toLowerCase();
const inCi = ciValue !== '' && ciValue !== 'false' && ciValue !== '0';

const loud = (lines) => {
  const bar = '='.repeat(78);
  console.warn(`\n${bar}\n${lines.map((l) => `  ${l}`).join('\n')}\n${bar}\n`);
};

// Arguments select vitest files or tests; on a laptop the browser suite is then left out, and
// the run says so. In CI it runs whatever the arguments.
const partial = process.argv.length > 2 && !inCi;

const suites = await run([vitest, 'run', ...process.argv.slice(2)]);
if (suites !== 0) {
  loud([`BROWSER SUITE NOT RUN: the vitest suites failed (exit ${suites}).`]);
  process.exit(suites);
}
if (partial) {
  loud([
    'BROWSER SUITE SKIPPED: arguments were given, so only the selected vitest tests ran.',
    'Run `npm test` with no arguments (or `npm run test:e2e`) for the browser suite.',
  ]);
  process.exit(suites);
}
const built = await run(['scripts/build-web.mjs']);
if (built !== 0) process.exit(built);
process.exit(await run([vitest, 'run', '--config', 'test/e2e/vitest.config.ts']));

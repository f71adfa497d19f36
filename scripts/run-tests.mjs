#!/usr/bin/env node
// `npm test` after `npm run check`: the vitest suites (unit + integration, on PGlite and on the
// real services when reachable). End-to-end runs will be added here. Extra arguments go to vitest.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const vitest = createRequire(import.meta.url).resolve('vitest/vitest.mjs');
const child = spawn(process.execPath, [vitest, 'run', ...process.argv.slice(2)], { stdio: 'inherit' });

// Ctrl-C reaches the child through the terminal's process group; a plain `kill` of this
// runner (SIGTERM) is passed on so vitest can stop its workers.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

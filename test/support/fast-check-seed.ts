/**
 * Property tests explore new random inputs on every local run (a failure prints its seed). CI
 * runs with one fixed seed so that a red CI replays exactly; `FC_SEED=<n> npm test` pins any run.
 */
import fc from 'fast-check';
import { isCi } from './ci.ts';

const fromEnv = process.env.FC_SEED;
const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : isCi() ? 20_261_126 : undefined;
if (seed !== undefined && Number.isSafeInteger(seed)) fc.configureGlobal({ seed });

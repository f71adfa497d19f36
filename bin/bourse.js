#!/usr/bin/env node
// Runs the TypeScript CLI through tsx (a runtime dependency), so `npx bourse …` works without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/bourse.ts');

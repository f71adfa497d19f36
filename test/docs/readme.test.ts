import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { clusterVariables } from '../../src/cli/start.ts';
import { gatewayConfigVariables } from '../../src/gateway/config.ts';
import { configVariables } from '../../src/platform/config.ts';

/** The README is the front door: its configuration table and scripts must match the code. */
const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
  scripts: Record<string, string>;
};

describe('README', () => {
  it('documents every configuration variable with its default', () => {
    for (const v of [...configVariables, ...gatewayConfigVariables, ...clusterVariables]) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${v.name}\` |`));
      expect(row, `README row for ${v.name}`).toBeDefined();
      expect(row).toContain(v.default === undefined ? '(unset)' : `\`${v.default}\``);
    }
  });

  it('names only npm scripts that exist', () => {
    const named = [...readme.matchAll(/npm run ([a-z0-9:-]+)/g)].map((m) => m[1] as string);
    expect(named.length).toBeGreaterThan(0);
    for (const script of named) expect(Object.keys(pkg.scripts), `npm run ${script}`).toContain(script);
  });

  it('gives the two front-door commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});

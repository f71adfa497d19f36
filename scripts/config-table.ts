// Prints the README's configuration table from the code's lists of variables: `npm run docs:config`.

import { clusterVariables } from '../src/cli/start.ts';
import { gatewayConfigVariables } from '../src/gateway/config.ts';
import { configVariables } from '../src/platform/config.ts';

for (const v of [...configVariables, ...gatewayConfigVariables, ...clusterVariables]) {
  const def = v.default === undefined ? '(unset)' : `\`${v.default}\``;
  console.log(`| \`${v.name}\` | ${def} | ${v.description.replaceAll('|', '\\|')} |`);
}

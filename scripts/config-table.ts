// Prints the README's configuration table from the code's list of variables: `npm run docs:config`.
import { configVariables } from '../src/platform/config.ts';

for (const v of configVariables) {
  const def = v.default === undefined ? '(unset)' : `\`${v.default}\``;
  console.log(`| \`${v.name}\` | ${def} | ${v.description.replaceAll('|', '\\|')} |`);
}

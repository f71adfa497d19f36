// Prints the README's configuration table from the code's lists of variables: `npm run docs:config`.
import { gatewayConfigVariables } from '../src/gateway/config.ts';
import { configVariables } from '../src/platform/config.ts';

const clusterVariables = [
  {
    name: 'BOURSE_ORDERS_URLS',
    default: undefined,
    description: '`--role gateway`: base URLs of the orders instances, comma-separated (round-robin).',
  },
  {
    name: 'BOURSE_USERS_URLS',
    default: undefined,
    description: '`--role gateway`: base URLs of the users instances, comma-separated.',
  },
];

for (const v of [...configVariables, ...gatewayConfigVariables, ...clusterVariables]) {
  const def = v.default === undefined ? '(unset)' : `\`${v.default}\``;
  console.log(`| \`${v.name}\` | ${def} | ${v.description.replaceAll('|', '\\|')} |`);
}

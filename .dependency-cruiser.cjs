/** The layering rules of DESIGN.md, enforced by `npm run check`. */
module.exports = {
  forbidden: [
    {
      name: 'engine-is-pure',
      comment: 'src/engine imports nothing but src/domain (no I/O, no clock, no node built-ins).',
      severity: 'error',
      // tests beside the engine may use the test tools
      from: { path: '^src/engine/', pathNot: ['\\.test\\.ts$', '^src/engine/test-kit\\.ts$'] },
      to: { pathNot: ['^src/engine/', '^src/domain/'] },
    },
    {
      name: 'domain-is-leaf',
      comment:
        'src/domain holds shared types, schemas and pure computations: it imports nothing else of ours ' +
        '(npm packages such as trading-signals and Node built-ins are fine; tests may use their tools).',
      severity: 'error',
      from: { path: '^src/domain/', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/', pathNot: ['^src/domain/'] },
    },
    {
      name: 'platform-below-services',
      severity: 'error',
      from: { path: '^src/platform/' },
      to: { path: ['^src/services/', '^src/gateway/', '^src/cli/', '^src/engine/'] },
    },
    {
      name: 'services-do-not-import-each-other',
      comment: 'Services meet through typed clients (src/services/*/client.ts) and bus events only.',
      severity: 'error',
      from: { path: '^src/services/([^/]+)/' },
      to: {
        path: '^src/services/',
        pathNot: [
          '^src/services/$1/',
          '^src/services/[^/]+/client\\.ts$',
          '^src/services/[^/]+/events\\.ts$',
        ],
      },
    },
    {
      name: 'gateway-knows-services-by-url',
      severity: 'error',
      from: { path: '^src/gateway/' },
      to: { path: ['^src/services/', '^src/engine/'], pathNot: ['^src/services/[^/]+/client\\.ts$'] },
    },
    {
      name: 'no-upward-imports',
      severity: 'error',
      from: { path: '^src/(services|gateway|platform|domain|engine)/' },
      to: { path: '^src/cli/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};

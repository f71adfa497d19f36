/**
 * Whether this run is CI. CI providers set `CI` to `true`, `1`, a provider name...: any non-empty
 * value but `false` and `0` counts, so a CI that spells it differently never turns a failure into
 * a skip. scripts/run-tests.mjs and .ci/run apply the same rule.
 */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.CI ?? '').trim().toLowerCase();
  return v !== '' && v !== 'false' && v !== '0';
}

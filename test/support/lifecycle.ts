import { afterAll, onTestFinished } from 'vitest';

/**
 * Wraps a resource factory so that what it makes is disposed of when its scope ends: at the end
 * of the test when made inside a test (or its beforeEach), else after the describe block
 * (beforeAll). Embedded databases hold hundreds of MB each, so they must not pile up until the
 * end of a file. Call `scoped` synchronously inside `describe`.
 */
export function scoped<A extends unknown[], T>(
  make: (...args: A) => Promise<{ value: T; dispose: () => Promise<void> }>,
): (...args: A) => Promise<T> {
  const disposers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    const errors: unknown[] = [];
    for (const dispose of disposers.reverse()) await dispose().catch((err) => errors.push(err));
    if (errors.length > 0) throw new AggregateError(errors, 'cleaning up test resources failed');
  });
  return async (...args) => {
    const { value, dispose } = await make(...args);
    try {
      onTestFinished(() => dispose());
    } catch {
      disposers.push(dispose); // not inside a test: vitest refuses onTestFinished
    }
    return value;
  };
}

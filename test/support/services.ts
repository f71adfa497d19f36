/**
 * Real services for integration tests, and what to do when one is missing: in CI
 * (`CI` set, see ci.ts) the suite fails with the reason; on a laptop it is skipped, and the run ends by
 * naming every suite it skipped (see global-setup.ts), so a green run never hides one.
 */
import { appendFileSync } from 'node:fs';
import { describe, inject, it, type TestContext } from 'vitest';
import { redactUrl } from '../../src/platform/logger.ts';
import { isCi } from './ci.ts';
import { type Service, type ServiceStatus, type SkipRecord, serviceNames } from './probe.ts';

export type { Service, ServiceStatus } from './probe.ts';

function status(service: Service): ServiceStatus {
  const all = inject('bourseServices');
  if (!all) throw new Error('test/support/global-setup.ts did not run: use the repository vitest.config.ts');
  return all[service];
}

/** The URL of a service known to be up (call inside a describeWith… suite). */
export function serviceUrl(service: Service): string {
  return status(service).url;
}

function unavailable(services: readonly Service[]): { service: Service; reason: string }[] {
  return services.flatMap((service) => {
    const { url, problem } = status(service);
    return problem
      ? [{ service, reason: `no ${serviceNames[service]} at ${redactUrl(url)} (${problem})` }]
      : [];
  });
}

function recordSkip(services: readonly Service[], suite: string): void {
  const log = inject('bourseSkipLog');
  for (const service of services) {
    const record: SkipRecord = { service, url: redactUrl(status(service).url), suite };
    // One short O_APPEND write per line: safe with several worker processes appending at once.
    appendFileSync(log, `${JSON.stringify(record)}\n`);
  }
}

/** `describe` that needs real services: fails in CI, skips (and says so at the end) elsewhere. */
export function describeWith(services: readonly Service[], name: string, fn: () => void): void {
  const down = unavailable(services);
  if (down.length === 0) {
    describe(name, fn);
  } else if (isCi()) {
    describe(name, () => {
      it('has its services', () => {
        throw new Error(
          `${down.map((d) => d.reason).join('; ')}. CI is set, so this suite fails rather than skips.`,
        );
      });
    });
  } else {
    recordSkip(
      down.map((d) => d.service),
      name,
    );
    describe.skip(name, fn);
  }
}

export const describeWithPostgres = (name: string, fn: () => void): void =>
  describeWith(['postgres'], name, fn);
export const describeWithRedis = (name: string, fn: () => void): void => describeWith(['redis'], name, fn);
export const describeWithNats = (name: string, fn: () => void): void => describeWith(['nats'], name, fn);

/** Inside one test: `needs(ctx, 'redis')` skips it (or fails it in CI) when Redis is down. */
export function needs(ctx: TestContext, ...services: Service[]): void {
  const down = unavailable(services);
  if (down.length === 0) return;
  const reasons = down.map((d) => d.reason).join('; ');
  if (isCi()) throw new Error(`${reasons}. CI is set, so this test fails rather than skips.`);
  recordSkip(
    down.map((d) => d.service),
    `${ctx.task.suite?.name ?? ''} > ${ctx.task.name}`,
  );
  ctx.skip(reasons);
}

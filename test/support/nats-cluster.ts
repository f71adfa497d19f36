/**
 * Suites that start their own local NATS cluster (src/cli/cluster-nats.ts) need the nats-server
 * binary: without it they fail in CI and are skipped (and say so) elsewhere, like the services.
 */
import { describe, it } from 'vitest';
import { natsServerBinary } from '../../src/cli/cluster-nats.ts';
import { isCi } from './ci.ts';

export function describeWithNatsServer(name: string, fn: () => void): void {
  if (natsServerBinary()) {
    describe(name, fn);
  } else if (isCi()) {
    describe(name, () => {
      it('has the nats-server binary', () => {
        throw new Error(
          'no nats-server binary (PATH, /usr/sbin or BOURSE_NATS_SERVER). CI is set, so this fails.',
        );
      });
    });
  } else {
    console.warn(`skipped "${name}": no nats-server binary (PATH, /usr/sbin or BOURSE_NATS_SERVER)`);
    describe.skip(name, fn);
  }
}

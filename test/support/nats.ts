/** Test streams on the shared NATS server (no vitest imports: global-setup uses this too). */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/** Every test stream is named BOURSE_T_<unix seconds>_<pid>_<n>. */
export const STREAM_PREFIX = 'BOURSE_T_';
const OURS = /^BOURSE_T_(\d{10})_\d+_/;

/** Deletes test streams older than maxAgeMs, left behind by killed runs. */
export function deleteStaleStreams(servers: string, maxAgeMs = 60 * 60 * 1000): Promise<number> {
  const cutoff = (Date.now() - maxAgeMs) / 1000;
  return deleteStreams(servers, (name) => Number(OURS.exec(name)?.[1] ?? Number.POSITIVE_INFINITY) < cutoff);
}

/** A bus's streams: its ordinary stream and its kept one (`<stream>_KEPT`, see NatsBusOptions). */
export const ofStream =
  (stream: string) =>
  (name: string): boolean =>
    name === stream || name === `${stream}_KEPT`;

export async function deleteStreams(servers: string, which: (name: string) => boolean): Promise<number> {
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    let deleted = 0;
    for await (const info of jsm.streams.list()) {
      const name = info.config.name;
      if (name.startsWith(STREAM_PREFIX) && which(name)) {
        await jsm.streams.delete(name);
        deleted++;
      }
    }
    return deleted;
  } finally {
    await nc.close();
  }
}

/** How many consumers the server holds on `stream` (durable and ephemeral). */
export async function countConsumers(servers: string, stream: string): Promise<number> {
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    let n = 0;
    for await (const _ of jsm.consumers.list(stream)) n++;
    return n;
  } finally {
    await nc.close();
  }
}

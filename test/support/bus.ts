/**
 * The bus counterpart of forEachDb: the same test body on the in-process bus and on real NATS
 * JetStream. Each NATS bus gets its own stream and subject prefix, so runs never see each
 * other's messages (JetStream streams may not overlap in subjects), and the stream is deleted after.
 */
import { describe } from 'vitest';
import { createMemoryBus } from '../../src/platform/bus/memory.ts';
import { openNatsBus } from '../../src/platform/bus/nats.ts';
import type { Bus } from '../../src/platform/bus/types.ts';
import { createLogger, type Logger } from '../../src/platform/logger.ts';
import { scoped } from './lifecycle.ts';
import { deleteStreams, ofStream, STREAM_PREFIX } from './nats.ts';
import { describeWithNats, serviceUrl } from './services.ts';

export interface MakeBusOptions {
  /** Receives handler errors; silent by default. */
  logger?: Logger;
  /** The retention of ordinary events (default: 10 min on NATS, the bus's own 1 h in memory). */
  maxAgeMs?: number;
  /** How long an ordinary durable consumer outlives its last subscriber (default DURABLE_INACTIVE_MS). */
  durableInactiveMs?: number;
}

export type MakeBus = (options?: MakeBusOptions) => Promise<Bus>;

type Made = { value: Bus; dispose: () => Promise<void> };

let counter = 0;
const streams = new WeakMap<Bus, string>();
const silent = () => createLogger({ level: 'silent' });

/** Registers `${name} [memory]` and `${name} [nats]`, the latter needing NATS. */
export function forEachBus(name: string, body: (makeBus: MakeBus) => void): void {
  describe(`${name} [memory]`, () => body(scoped(makeMemoryBus)));
  describeWithNats(`${name} [nats]`, () => body(scoped(makeNatsBus)));
}

/** The JetStream stream of a bus made by makeNatsBus(es), to look at on the server; undefined in memory. */
export function natsStream(bus: Bus): string | undefined {
  return streams.get(bus);
}

export async function makeMemoryBus(options: MakeBusOptions = {}): Promise<Made> {
  const bus = createMemoryBus({
    logger: options.logger ?? silent(),
    ...(options.maxAgeMs !== undefined && { maxAgeMs: options.maxAgeMs }),
    ...(options.durableInactiveMs !== undefined && { durableInactiveMs: options.durableInactiveMs }),
  });
  return { value: bus, dispose: () => bus.close() };
}

export async function makeNatsBus(options: MakeBusOptions = {}): Promise<Made> {
  const { value, dispose } = await makeNatsBuses(1, options);
  return { value: value[0]!, dispose };
}

/** `count` connections to one stream, as `count` processes of one deployment have. */
export async function makeNatsBuses(
  count: number,
  options: MakeBusOptions = {},
): Promise<{ value: Bus[]; dispose: () => Promise<void> }> {
  const id = `${Math.floor(Date.now() / 1000)}_${process.pid}_${counter++}`;
  const stream = STREAM_PREFIX + id;
  const servers = serviceUrl('nats');
  const buses: Bus[] = [];
  const dispose = async () => {
    await Promise.all(buses.map((bus) => bus.close().catch(() => {})));
    await deleteStreams(servers, ofStream(stream));
  };
  try {
    for (let k = 0; k < count; k++) {
      const bus = await openNatsBus({
        servers,
        stream,
        subjectPrefix: `t${id}.`,
        maxAgeMs: options.maxAgeMs ?? 10 * 60 * 1000,
        ...(options.durableInactiveMs !== undefined && { durableInactiveMs: options.durableInactiveMs }),
        logger: options.logger ?? silent(),
      });
      streams.set(bus, stream);
      buses.push(bus);
    }
  } catch (err) {
    await dispose();
    throw err;
  }
  return { value: buses, dispose };
}

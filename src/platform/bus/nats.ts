import {
  AckPolicy,
  type Consumer,
  type ConsumerMessages,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { connect, nanos, type Status } from '@nats-io/transport-node';
import { createLogger, type Logger } from '../logger.ts';
import { settledWithin } from '../settled.ts';
import { deliver, deliverAndSettle } from './deliver.ts';
import { checkPattern, checkSubject, STREAM_SUBJECTS } from './subjects.ts';
import {
  type Bus,
  type BusMessage,
  DURABLE_INACTIVE_MS,
  type SubscribeOptions,
  type Unsubscribe,
} from './types.ts';

/** A redelivery asked for by a handler waits this long (no hot loop while a subscriber refuses). */
const REDELIVER_DELAY_MS = 50;

export interface NatsBusOptions {
  /** One URL or several, comma-separated (a cluster). */
  servers: string;
  /** JetStream stream name. */
  stream?: string;
  /**
   * Prepended to every subject on the wire (`t1.` → `t1.md.trade.X`) and stripped on delivery,
   * so tests or two deployments can share one NATS: streams may not overlap in subjects.
   */
  subjectPrefix?: string;
  /**
   * Retention. Subscribers only ever read new messages; what is kept serves replays after a
   * consumer reset and debugging, so it is bounded by age and size.
   */
  maxAgeMs?: number;
  maxBytes?: number;
  /**
   * Copies of the stream (and of its durable consumers) on a NATS cluster: 1 on a single server,
   * 3 on a 3-node cluster so that losing one node loses no stored event (BOURSE_NATS_REPLICAS).
   */
  replicas?: number;
  logger?: Logger;
}

/**
 * How long closing a consumer, draining or closing the connection may take before we give up on
 * it: a close must never hang a shutdown (a drain waits for the server's answer to a flush, which
 * never comes from a server that is gone).
 */
export const CLOSE_TIMEOUT_MS = 5000;

const codec = { encode: (data: unknown) => new TextEncoder().encode(JSON.stringify(data)) };

export async function openNatsBus(options: NatsBusOptions): Promise<Bus> {
  const logger = options.logger ?? createLogger({ name: 'bus' });
  const stream = options.stream ?? 'BOURSE';
  const prefix = options.subjectPrefix ?? '';
  const nc = await connect({
    servers: options.servers.split(',').map((s) => s.trim()),
    name: 'bourse',
    maxReconnectAttempts: -1, // a NATS restart must not take the service down with it
    // Every JetStream publish is a request; with async traces on (the default) each one builds two
    // Error objects up front (stack captured) in case it fails: 9 % of the orders leader's CPU in
    // the bench:cluster profile (issue 11). A failed publish still says what failed, without the
    // caller's stack.
    noAsyncTraces: true,
  });
  watchStatus(nc.status(), logger).catch(() => {});
  const jsm = await jetstreamManager(nc).catch(async (err: unknown) => {
    await nc.close();
    throw err;
  });
  try {
    await ensureStream(jsm, {
      name: stream,
      subjects: STREAM_SUBJECTS.map((s) => prefix + s),
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(options.maxAgeMs ?? 60 * 60 * 1000),
      max_bytes: options.maxBytes ?? 1024 ** 3,
      num_replicas: options.replicas ?? 1,
    });
  } catch (err) {
    await nc.close();
    throw err;
  }
  const js = jetstream(nc);
  const live = new Set<ConsumerMessages>();
  let closing: Promise<void> | null = null;

  /** The durable consumer of that name, created on first use (by any process). */
  async function durableConsumer(name: string, pattern: string, ackWaitMs: number): Promise<Consumer> {
    // consumer names hold letters, digits, _ and - only; the prefix keeps deployments apart
    const durable = `${prefix}${name}`.replace(/[^A-Za-z0-9_-]/g, '_');
    try {
      await jsm.consumers.add(stream, {
        durable_name: durable,
        filter_subject: prefix + pattern,
        ack_policy: AckPolicy.Explicit,
        // first creation: from now on; afterwards the server keeps its position
        deliver_policy: DeliverPolicy.New,
        ack_wait: nanos(ackWaitMs),
        inactive_threshold: nanos(DURABLE_INACTIVE_MS),
      });
    } catch (err) {
      // it exists with another configuration (an older version made it): use it as it is
      const existing = await jsm.consumers.info(stream, durable).catch(() => null);
      if (!existing) throw err;
      logger.warn({ err, durable }, 'bus: durable consumer exists with another configuration; using it');
    }
    return js.consumers.get(stream, durable);
  }

  return {
    kind: 'nats',
    publish: async (subject, data) => {
      checkSubject(subject);
      // Resolves on the stream's ack, i.e. once the message is stored.
      await js.publish(prefix + subject, codec.encode(data));
    },
    subscribe: async <T>(
      pattern: string,
      handler: (msg: BusMessage<T>) => unknown,
      options: SubscribeOptions = {},
    ): Promise<Unsubscribe> => {
      checkPattern(pattern);
      const durable = options.durable;
      // Without a name, an ordered consumer: ephemeral, in memory on the server, flow-controlled,
      // and recreated from the last seen sequence if a message goes missing, so delivery stays
      // gap-free and in order. consume() returns once the server has created it, so "new" means
      // from now. With one, a durable pull consumer shared by every subscriber of that name.
      const consumer: Consumer =
        durable === undefined
          ? await js.consumers.get(stream, {
              filter_subjects: prefix + pattern,
              deliver_policy: DeliverPolicy.New,
            })
          : await durableConsumer(durable, pattern, options.ackWaitMs ?? 30_000);
      const decode = (m: { subject: string; json(): unknown }): BusMessage | null => {
        try {
          return { subject: m.subject.slice(prefix.length), data: m.json() };
        } catch (err) {
          logger.error({ err, subject: m.subject }, 'bus message is not JSON; skipped');
          return null;
        }
      };
      const messages = await consumer.consume({
        // A pull request outlives a subscriber that stopped: the server keeps sending it events
        // (redeliveries included) until it expires, so a durable with a short ack wait also pulls
        // for no longer than that (nats.js allows 1 s at least), for its events to move on soon.
        ...(durable !== undefined && options.ackWaitMs !== undefined
          ? { expires: Math.min(30_000, Math.max(1000, options.ackWaitMs)) }
          : {}),
        callback: (m) => {
          const msg = decode(m);
          if (durable === undefined) {
            if (msg) deliver(handler as (msg: BusMessage) => void, msg, logger);
            return;
          }
          // acknowledged once handled: a crash before then delivers it again (to any subscriber)
          if (!msg) return void m.term();
          void deliverAndSettle(handler as (msg: BusMessage) => unknown, msg, logger).then((outcome) =>
            outcome === 'ack' ? m.ack() : m.nak(REDELIVER_DELAY_MS),
          );
        },
      });
      if (closing) {
        // the bus closed while this subscription was being made: nothing may outlive the close
        await settledWithin(messages.close(), CLOSE_TIMEOUT_MS);
        return async () => {};
      }
      live.add(messages);
      return async () => {
        if (!live.delete(messages)) return;
        if (!(await settledWithin(messages.close(), CLOSE_TIMEOUT_MS)))
          logger.warn({ pattern, durable }, 'bus: a consumer did not close in time; left to the connection');
        // An ordered consumer would be dropped after its inactivity threshold anyway: tidy. A
        // durable one stays: its position is what the next subscriber resumes from.
        if (durable === undefined && !nc.isClosed() && !closing)
          await settledWithin(consumer.delete(), CLOSE_TIMEOUT_MS);
      };
    },
    declareDurable: async (name, pattern, options = {}) => {
      checkPattern(pattern);
      await durableConsumer(name, pattern, options.ackWaitMs ?? 30_000);
    },
    close: () => {
      closing ??= (async () => {
        const consumers = [...live];
        live.clear();
        if (!(await settledWithin(Promise.all(consumers.map((m) => m.close())), CLOSE_TIMEOUT_MS)))
          logger.warn({ consumers: consumers.length }, 'bus: consumers did not close in time');
        if (nc.isClosed()) return;
        // drain: waits for in-flight publishes, then closes; bounded, then closed outright
        if (!(await settledWithin(nc.drain(), CLOSE_TIMEOUT_MS))) {
          logger.warn('bus: draining the NATS connection timed out; closing it');
          await settledWithin(nc.close(), CLOSE_TIMEOUT_MS);
        }
      })();
      return closing;
    },
  };
}

/** Creates the stream, or brings an existing one's configuration up to date. */
async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  try {
    const info = await jsm.streams.info(config.name);
    await jsm.streams.update(config.name, { ...info.config, ...config });
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === 10059)) throw err; // 10059: stream not found
    // Another process may create it between our info() and add(): identical config is accepted.
    await jsm.streams.add(config);
  }
}

async function watchStatus(status: AsyncIterable<Status>, logger: Logger) {
  for await (const s of status) {
    if (s.type === 'disconnect') logger.warn({ nats: s.type, server: s.server }, 'NATS');
    else if (s.type === 'error') logger.warn({ nats: s.type, err: s.error }, 'NATS');
    else if (s.type === 'reconnect') logger.info({ nats: s.type, server: s.server }, 'NATS reconnected');
  }
}

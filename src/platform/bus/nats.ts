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
import {
  checkPattern,
  checkSubject,
  isSubset,
  KEPT_SUBJECTS,
  retentionOf,
  STREAM_SUBJECTS,
} from './subjects.ts';
import {
  type Bus,
  type BusMessage,
  checkKeep,
  DURABLE_INACTIVE_MS,
  type SubscribeOptions,
  type Unsubscribe,
} from './types.ts';

/** A redelivery asked for by a handler waits this long (no hot loop while a subscriber refuses). */
const REDELIVER_DELAY_MS = 50;

interface OldConsumer {
  name: string;
  filter: string;
  ackWaitMs: number;
}

/** How long a start may spend moving an older version's kept consumers (see moveKeptConsumers). */
const MOVE_TIMEOUT_MS = 30_000;

export interface NatsBusOptions {
  /** One URL or several, comma-separated (a cluster). */
  servers: string;
  /** JetStream stream name (ordinary events, STREAM_SUBJECTS). */
  stream?: string;
  /**
   * The stream of KEPT_SUBJECTS (default `<stream>_KEPT`): Interest retention, no max_age, so a
   * message stays until every durable consumer over it has acknowledged it.
   */
  keptStream?: string;
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
   * The kept stream's size bound (default 10 GiB). Past it, publishes to KEPT_SUBJECTS are refused
   * (DiscardPolicy.New), never dropped: the shards' outbox retries them.
   */
  keptMaxBytes?: number;
  /** How long a durable consumer of ordinary events outlives its last subscriber (DURABLE_INACTIVE_MS). */
  durableInactiveMs?: number;
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
  const keptStream = options.keptStream ?? `${stream}_KEPT`;
  const prefix = options.subjectPrefix ?? '';
  const replicas = options.replicas ?? 1;
  const streamOf = (pattern: string) => (retentionOf(pattern) === 'until-consumed' ? keptStream : stream);
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
  const js = jetstream(nc);
  try {
    const old = await keptConsumersLeftOnStream();
    // The ordinary stream first: an older version's stream covered `orders.>`, which overlaps the
    // kept stream's subjects, so it must give them up before the kept stream can be created.
    await ensureStream(jsm, {
      name: stream,
      subjects: STREAM_SUBJECTS.map((s) => prefix + s),
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(options.maxAgeMs ?? 60 * 60 * 1000),
      max_bytes: options.maxBytes ?? 1024 ** 3,
      num_replicas: replicas,
    });
    await ensureStream(jsm, {
      name: keptStream,
      subjects: KEPT_SUBJECTS.map((s) => prefix + s),
      // kept while a consumer that existed at publish time has not acknowledged it; no age limit
      retention: RetentionPolicy.Interest,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      max_age: 0,
      max_bytes: options.keptMaxBytes ?? 10 * 1024 ** 3,
      num_replicas: replicas,
    });
    // their consumers at once (from here on, a message published to a kept subject with no
    // consumer is acknowledged and dropped: Interest retention), then what they had not read
    for (const c of old) await addDurable(keptStream, c.name, c.filter, c.ackWaitMs);
    await moveKeptConsumers(old);
  } catch (err) {
    await nc.close();
    throw err;
  }
  const live = new Set<ConsumerMessages>();
  let closing: Promise<void> | null = null;

  /** The durable consumer of that name, created on first use (by any process). */
  async function durableConsumer(name: string, pattern: string, ackWaitMs: number): Promise<Consumer> {
    // consumer names hold letters, digits, _ and - only; the prefix keeps deployments apart
    const durable = `${prefix}${name}`.replace(/[^A-Za-z0-9_-]/g, '_');
    const on = streamOf(pattern);
    await addDurable(on, durable, prefix + pattern, ackWaitMs);
    return js.consumers.get(on, durable);
  }

  async function addDurable(on: string, durable: string, filter: string, ackWaitMs: number): Promise<void> {
    try {
      await jsm.consumers.add(on, {
        durable_name: durable,
        filter_subject: filter,
        ack_policy: AckPolicy.Explicit,
        // first creation: from now on; afterwards the server keeps its position
        deliver_policy: DeliverPolicy.New,
        ack_wait: nanos(ackWaitMs),
        // a consumer of kept events never expires: what waits for it would wait for nobody
        ...(on === stream && { inactive_threshold: nanos(options.durableInactiveMs ?? DURABLE_INACTIVE_MS) }),
      });
    } catch (err) {
      // it exists with another configuration (an older version made it): use it as it is
      const existing = await jsm.consumers.info(on, durable).catch(() => null);
      if (!existing) throw err;
      logger.warn({ err, durable }, 'bus: durable consumer exists with another configuration; using it');
    }
  }

  /**
   * Upgrade from a version whose one stream also held KEPT_SUBJECTS: each durable consumer of them
   * left on the ordinary stream is created again (same name, subjects, ack wait) on the kept stream,
   * what it had not acknowledged is published again into the kept stream (a repeat is harmless:
   * durable handlers are idempotent, an orders shard's channel drops it by number), and the old
   * consumer is deleted. Several processes starting at once may do it together: each message goes
   * to one of them, or to both after an ack wait (a repeat). One that cannot finish within
   * MOVE_TIMEOUT_MS (an old version's node still holds messages) leaves the rest to the next start.
   */
  async function keptConsumersLeftOnStream(): Promise<OldConsumer[]> {
    const old: OldConsumer[] = [];
    const exists = await jsm.streams.info(stream).then(
      () => true,
      () => false,
    );
    if (!exists) return old;
    for await (const info of jsm.consumers.list(stream)) {
      const filter = info.config.filter_subject;
      if (!info.config.durable_name || !filter?.startsWith(prefix)) continue;
      if (!KEPT_SUBJECTS.some((family) => isSubset(filter.slice(prefix.length), family))) continue;
      old.push({
        name: info.config.durable_name,
        filter,
        ackWaitMs: Math.round((info.config.ack_wait ?? 30e9) / 1e6),
      });
    }
    return old;
  }

  async function moveKeptConsumers(old: OldConsumer[]): Promise<void> {
    for (const c of old) {
      const from = await js.consumers.get(stream, c.name);
      const deadline = Date.now() + MOVE_TIMEOUT_MS;
      let moved = 0;
      let done = false;
      // Until a fetch finds nothing and nothing is out with another subscriber (an older node).
      // Not num_pending: NATS 2.9 still counts the acknowledged messages there once the stream no
      // longer covers the consumer's subject.
      while (!done && Date.now() <= deadline) {
        let got = 0;
        const batch = await from.fetch({ max_messages: 256, expires: 1000 });
        for await (const m of batch) {
          await js.publish(m.subject, m.data);
          await m.ackAck();
          got++;
        }
        moved += got;
        const info = await from.info(true).catch(() => null);
        if (info === null) break; // gone (another process finished it) or unreachable: leave it
        done = got === 0 && info.num_ack_pending === 0;
      }
      if (!done) {
        logger.warn({ durable: c.name, moved }, 'bus: kept consumer not moved yet; the next start goes on');
        continue;
      }
      await jsm.consumers.delete(stream, c.name).catch(() => false);
      logger.info({ durable: c.name, moved }, 'bus: durable consumer moved to the kept stream');
    }
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
      checkKeep(pattern, options.keep, durable !== undefined);
      // Without a name, an ordered consumer: ephemeral, in memory on the server, flow-controlled,
      // and recreated from the last seen sequence if a message goes missing, so delivery stays
      // gap-free and in order. consume() returns once the server has created it, so "new" means
      // from now. With one, a durable pull consumer shared by every subscriber of that name.
      const consumer: Consumer =
        durable === undefined
          ? await js.consumers.get(streamOf(pattern), {
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
      checkKeep(pattern, options.keep, true);
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

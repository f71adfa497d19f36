/** The Bus contract, identical in process and on NATS JetStream. */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { expect, it } from 'vitest';
import { openNatsBus } from '../../src/platform/bus/nats.ts';
import { openBus } from '../../src/platform/bus/open.ts';
import { type BusMessage, DURABLE_INACTIVE_MS, RedeliverError } from '../../src/platform/bus/types.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { forEachBus } from '../support/bus.ts';
import { deleteStreams, ofStream, STREAM_PREFIX } from '../support/nats.ts';
import { describeWithNats, serviceUrl } from '../support/services.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(done: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A subscriber that keeps what it receives. */
function inbox<T = unknown>() {
  const messages: BusMessage<T>[] = [];
  return { messages, handler: (msg: BusMessage<T>) => void messages.push(msg) };
}

forEachBus('Bus contract', (makeBus) => {
  it('delivers JSON data asynchronously, from the subscription on', async () => {
    const bus = await makeBus();
    await bus.publish('md.trade.AAPL', { before: true });
    const box = inbox();
    await bus.subscribe('md.trade.AAPL', box.handler);
    const at = new Date('2024-01-02T03:04:05.000Z');
    const published = bus.publish('md.trade.AAPL', { price: 101.25, at, tags: ['a'], none: null });
    expect(box.messages).toEqual([]); // never inside publish()
    await expect(published).resolves.toBeUndefined();
    await waitFor(() => box.messages.length === 1, 'the message');
    await sleep(50);
    // What crosses the bus is JSON: a Date arrives as its ISO string, on both buses.
    expect(box.messages).toEqual([
      {
        subject: 'md.trade.AAPL',
        data: { price: 101.25, at: '2024-01-02T03:04:05.000Z', tags: ['a'], none: null },
      },
    ]);
  });

  it('matches NATS wildcards: * is one token, > is the rest', async () => {
    const bus = await makeBus();
    const star = inbox();
    const rest = inbox();
    const exact = inbox();
    await bus.subscribe('md.*.AAPL', star.handler);
    await bus.subscribe('md.>', rest.handler);
    await bus.subscribe('orders.exec.acct-1', exact.handler);
    const subjects = [
      'md.trade.AAPL',
      'md.quote.AAPL',
      'md.trade.MSFT',
      'md.trade.AAPL.x',
      'orders.exec.acct-1',
    ];
    for (const subject of subjects) await bus.publish(subject, subject);
    await waitFor(() => rest.messages.length === 4 && exact.messages.length === 1, 'all deliveries');
    await sleep(100);
    expect(star.messages.map((m) => m.subject)).toEqual(['md.trade.AAPL', 'md.quote.AAPL']);
    expect(rest.messages.map((m) => m.subject)).toEqual(subjects.slice(0, 4));
    expect(exact.messages.map((m) => m.data)).toEqual(['orders.exec.acct-1']);
  });

  it('keeps publish order per subject, to every subscriber', async () => {
    const bus = await makeBus();
    const a = inbox<number>();
    const b = inbox<number>();
    await bus.subscribe('md.trade.AAPL', a.handler);
    await bus.subscribe('md.trade.*', b.handler);
    const count = 500;
    // Not awaited one by one: order must hold even with many publishes in flight.
    await Promise.all(Array.from({ length: count }, (_, i) => bus.publish('md.trade.AAPL', i)));
    await waitFor(() => a.messages.length === count && b.messages.length === count, 'all messages');
    const expected = Array.from({ length: count }, (_, i) => i);
    expect(a.messages.map((m) => m.data)).toEqual(expected);
    expect(b.messages.map((m) => m.data)).toEqual(expected);
  });

  it('stops delivering once unsubscribe resolves, leaving other subscriptions alone', async () => {
    const bus = await makeBus();
    const gone = inbox();
    const stays = inbox();
    const unsubscribe = await bus.subscribe('news.>', gone.handler);
    await bus.subscribe('news.>', stays.handler);
    await bus.publish('news.headline', 1);
    await waitFor(() => gone.messages.length === 1 && stays.messages.length === 1, 'first message');
    await unsubscribe();
    await unsubscribe(); // twice is harmless
    await bus.publish('news.headline', 2);
    await waitFor(() => stays.messages.length === 2, 'second message');
    await sleep(100);
    expect(gone.messages.map((m) => m.data)).toEqual([1]);
  });

  it('isolates failing handlers: the publisher and other subscribers never notice', async () => {
    const logged: { msg: string; subject: string }[] = [];
    const logger = createLogger({
      destination: { write: (line: string) => void logged.push(JSON.parse(line)) },
    });
    const bus = await makeBus({ logger });
    const healthy = inbox();
    let thrown = 0;
    await bus.subscribe('users.created', () => {
      thrown++;
      throw new Error('sync failure');
    });
    await bus.subscribe('users.*', async () => {
      throw new Error('async failure');
    });
    await bus.subscribe('users.created', healthy.handler);
    await bus.publish('users.created', 1);
    await bus.publish('users.created', 2);
    await waitFor(() => healthy.messages.length === 2 && logged.length === 4, 'deliveries and error logs');
    expect(thrown).toBe(2); // a failing handler keeps receiving
    expect(logged.map((l) => [l.msg, l.subject])).toEqual(
      Array.from({ length: 4 }, () => ['bus subscriber failed', 'users.created']),
    );
  });

  it('rejects subjects it could not carry, and anything after close', async () => {
    const bus = await makeBus();
    await expect(bus.publish('elsewhere.x', 1)).rejects.toThrow(/outside md\.>, orders\.\*, /);
    await expect(bus.publish('md.*', 1)).rejects.toThrow(/Invalid bus subject/);
    await expect(bus.publish('md..x', 1)).rejects.toThrow(/Invalid bus subject/);
    await expect(bus.publish('md.big', { n: 1n })).rejects.toThrow(/BigInt/);
    await expect(bus.subscribe('elsewhere.>', () => {})).rejects.toThrow(/not within one of/);
    await expect(bus.subscribe('>', () => {})).rejects.toThrow(/not within one of/);
    await expect(bus.subscribe('md.>.x', () => {})).rejects.toThrow(/Invalid bus subscription/);
    await bus.close();
    await expect(bus.publish('md.trade.AAPL', 1)).rejects.toThrow();
  });

  it('durable: a consumer that was down catches up on what was published meanwhile', async () => {
    const bus = await makeBus();
    await bus.publish('users.registered.u0', { n: 0 }); // before the consumer ever existed: not for it
    const first = inbox<{ n: number }>();
    const stop = await bus.subscribe('users.registered.*', first.handler, { durable: 'funding' });
    await bus.publish('users.registered.u1', { n: 1 });
    await waitFor(() => first.messages.length === 1, 'the first event');
    await stop(); // the consumer goes down
    for (let n = 2; n <= 5; n++) await bus.publish(`users.registered.u${n}`, { n });
    const again = inbox<{ n: number }>();
    await bus.subscribe('users.registered.*', again.handler, { durable: 'funding' });
    await waitFor(() => again.messages.length === 4, 'the events published while it was down');
    await sleep(50);
    expect(first.messages.map((m) => m.data.n)).toEqual([1]);
    expect(again.messages.map((m) => m.data.n)).toEqual([2, 3, 4, 5]);
  });

  it('durable: a declared consumer keeps what is published before its first subscriber', async () => {
    const bus = await makeBus();
    await bus.publish('orders.shard.3', { n: 0 }); // before the declaration: not for it
    await bus.declareDurable('shard-3', 'orders.shard.3', { ackWaitMs: 1000 });
    await bus.declareDurable('shard-3', 'orders.shard.3', { ackWaitMs: 1000 }); // again: no change
    for (let n = 1; n <= 3; n++) await bus.publish('orders.shard.3', { n });
    const box = inbox<{ n: number }>();
    await bus.subscribe('orders.shard.3', box.handler, { durable: 'shard-3', ackWaitMs: 1000 });
    await waitFor(() => box.messages.length === 3, 'the events published since the declaration');
    await bus.publish('orders.shard.3', { n: 4 });
    await waitFor(() => box.messages.length === 4, 'the next event');
    await sleep(50);
    expect(box.messages.map((m) => m.data.n)).toEqual([1, 2, 3, 4]);
  });

  it('durable: subscribers sharing a name share the work; an async handler is awaited', async () => {
    const bus = await makeBus();
    const a = inbox<{ n: number }>();
    const b = inbox<{ n: number }>();
    const handled: number[] = [];
    const slow = async (msg: BusMessage<{ n: number }>) => {
      await sleep(1);
      handled.push(msg.data.n);
    };
    await bus.subscribe('orders.exec.*', a.handler, { durable: 'notify' });
    await bus.subscribe('orders.exec.*', b.handler, { durable: 'notify' });
    await bus.subscribe('orders.exec.*', slow, { durable: 'other' });
    for (let n = 1; n <= 40; n++) await bus.publish('orders.exec.acct', { n });
    await waitFor(() => a.messages.length + b.messages.length === 40 && handled.length === 40, 'all events');
    await sleep(100);
    // each event once among the sharers, and every event to another name
    const shared = [...a.messages, ...b.messages].map((m) => m.data.n).sort((x, y) => x - y);
    expect(shared).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(handled.sort((x, y) => x - y)).toEqual(shared);
  });
  it('durable: an event whose handler asks for redelivery comes again, to a subscriber of the name', async () => {
    const bus = await makeBus();
    // a writer that is stepping down: it refuses everything, then unsubscribes
    const refused: number[] = [];
    const stopRefusing = await bus.subscribe<{ n: number }>(
      'orders.shard.7',
      (msg) => {
        refused.push(msg.data.n);
        throw new RedeliverError('not leading');
      },
      // what its client had buffered when it stopped goes on after this (NATS)
      { durable: 'shard-7', ackWaitMs: 1000 },
    );
    for (let n = 1; n <= 5; n++) await bus.publish('orders.shard.7', { n });
    await waitFor(() => refused.length >= 5, 'the refusals');
    await stopRefusing();
    // events asked again land with the next subscriber; a plain failure is acknowledged, not repeated
    const handled: number[] = [];
    let failedOnce = false;
    await bus.subscribe<{ n: number }>(
      'orders.shard.7',
      async (msg) => {
        if (msg.data.n === 3 && !failedOnce) {
          failedOnce = true;
          throw new Error('a bug, not a redelivery');
        }
        handled.push(msg.data.n);
      },
      { durable: 'shard-7', ackWaitMs: 1000 },
    );
    await bus.publish('orders.shard.7', { n: 6 });
    await waitFor(() => handled.includes(6) && new Set(handled).size >= 5, 'the redelivered events');
    await sleep(100);
    expect([...new Set(handled)].sort((a, b) => a - b)).toEqual([1, 2, 4, 5, 6]);
  });

  it('kept until consumed: orders.shard.* waits for its durable past the retention that drops ordinary events', async () => {
    const retentionMs = 1000;
    const bus = await makeBus({ maxAgeMs: retentionMs });
    const kept = { durable: 'shard-5', ackWaitMs: 1000, keep: 'until-consumed' } as const;
    await bus.declareDurable('shard-5', 'orders.shard.5', kept);
    await bus.declareDurable('funding', 'users.registered.*');
    for (let n = 1; n <= 3; n++) {
      await bus.publish('orders.shard.5', { n });
      await bus.publish(`users.registered.u${n}`, { n });
    }
    await sleep(3 * retentionMs); // nobody subscribed, for longer than the ordinary retention
    const shard = inbox<{ n: number }>();
    const funding = inbox<{ n: number }>();
    await bus.subscribe('orders.shard.5', shard.handler, kept);
    await bus.subscribe('users.registered.*', funding.handler, { durable: 'funding' });
    await bus.publish('orders.shard.5', { n: 4 });
    await bus.publish('users.registered.u4', { n: 4 });
    await waitFor(() => shard.messages.length >= 4 && funding.messages.length >= 1, 'the fresh events');
    await sleep(100);
    expect(shard.messages.map((m) => m.data.n)).toEqual([1, 2, 3, 4]);
    expect(funding.messages.map((m) => m.data.n)).toEqual([4]); // 1–3 were older than the retention
  });

  it('kept until consumed: its durable consumer does not expire, an ordinary idle one does', async () => {
    const inactiveMs = 1000;
    const bus = await makeBus({ durableInactiveMs: inactiveMs });
    const kept = { durable: 'shard-6', ackWaitMs: 1000, keep: 'until-consumed' } as const;
    await bus.declareDurable('shard-6', 'orders.shard.6', kept);
    await bus.declareDurable('funding', 'users.registered.*');
    await sleep(3 * inactiveMs); // both without a subscriber, longer than the inactivity limit
    await bus.publish('orders.shard.6', { n: 1 });
    await bus.publish('users.registered.u1', { n: 1 }); // its consumer is gone: kept for nobody
    const shard = inbox<{ n: number }>();
    const funding = inbox<{ n: number }>();
    await bus.subscribe('orders.shard.6', shard.handler, kept);
    await bus.subscribe('users.registered.*', funding.handler, { durable: 'funding' });
    await bus.publish('orders.shard.6', { n: 2 });
    await bus.publish('users.registered.u2', { n: 2 });
    await waitFor(() => shard.messages.length >= 2 && funding.messages.length >= 1, 'the fresh events');
    await sleep(100);
    expect(shard.messages.map((m) => m.data.n)).toEqual([1, 2]);
    expect(funding.messages.map((m) => m.data.n)).toEqual([2]);
  });

  it('refuses keep: until-consumed where the events are not kept until consumed', async () => {
    const bus = await makeBus();
    const keep = 'until-consumed' as const;
    await expect(bus.subscribe('users.>', () => {}, { durable: 'x', keep })).rejects.toThrow(
      /not kept until consumed/,
    );
    await expect(bus.declareDurable('x', 'orders.exec.*', { keep })).rejects.toThrow(
      /not kept until consumed/,
    );
    await expect(bus.subscribe('orders.shard.1', () => {}, { keep })).rejects.toThrow(
      /durable consumers only/,
    );
    await expect(bus.subscribe('orders.>', () => {})).rejects.toThrow(/not within one of/); // spans both classes
  });
});

describeWithNats('NATS bus specifics [nats]', () => {
  it('creates or updates its stream on connect, and stores a message before publish resolves', async () => {
    const servers = serviceUrl('nats');
    const stream = `BOURSE_T_${Math.floor(Date.now() / 1000)}_${process.pid}_spec`;
    const nc = await connect({ servers });
    const jsm = await jetstreamManager(nc);
    try {
      // An existing stream with outdated subjects is brought up to date.
      await jsm.streams.add({ name: stream, subjects: ['spec.md.>'] });
      const bus = await openNatsBus({
        servers,
        stream,
        subjectPrefix: 'spec.',
        logger: createLogger({ level: 'silent' }),
      });
      const info = await jsm.streams.info(stream);
      expect(info.config.subjects.sort()).toEqual([
        'spec.md.>',
        'spec.news.>',
        'spec.orders.*',
        'spec.orders.account.>',
        'spec.orders.exec.>',
        'spec.users.>',
      ]);
      const before = info.state.messages;
      await bus.publish('orders.exec.acct-1', { id: 1 });
      expect((await jsm.streams.info(stream)).state.messages).toBe(before + 1);
      const stored = await jsm.streams.getMessage(stream, { last_by_subj: 'spec.orders.exec.acct-1' });
      expect(stored?.json()).toEqual({ id: 1 });
      await bus.close();
    } finally {
      await deleteStreams(servers, ofStream(stream));
      await nc.close();
    }
  });

  it('keeps two deployments with different BOURSE_NATS_PREFIX apart on one server', async () => {
    const servers = serviceUrl('nats');
    const run = `T_${Math.floor(Date.now() / 1000)}_${process.pid}_prefix`;
    const logger = createLogger({ level: 'silent' });
    const configs = ['a', 'b'].map((d) =>
      loadConfig({ NATS_URL: servers, BOURSE_NATS_PREFIX: `${run}_${d}` }),
    );
    expect(configs.map((c) => c.natsStream)).toEqual([`BOURSE_${run}_a`, `BOURSE_${run}_b`]);
    const nc = await connect({ servers });
    const [a, b] = await Promise.all(configs.map((c) => openBus(c, logger)));
    try {
      const seenByA = inbox<{ from: string }>();
      const seenByB = inbox<{ from: string }>();
      await a!.subscribe('orders.exec.>', seenByA.handler);
      await b!.subscribe('orders.exec.>', seenByB.handler);
      // the same subject in both deployments
      await a!.publish('orders.exec.acct-1', { from: 'a' });
      await b!.publish('orders.exec.acct-1', { from: 'b' });
      await waitFor(() => seenByA.messages.length > 0 && seenByB.messages.length > 0, 'both deliveries');
      // each stream captured its own deployment's message only, under its own prefix on the wire
      const jsm = await jetstreamManager(nc);
      for (const [c, from] of [
        [configs[0]!, 'a'],
        [configs[1]!, 'b'],
      ] as const) {
        const info = await jsm.streams.info(c.natsStream);
        expect(info.config.subjects).toContain(`${c.natsPrefix}.orders.exec.>`);
        expect(info.state.messages).toBe(1);
        const stored = await jsm.streams.getMessage(c.natsStream, {
          last_by_subj: `${c.natsPrefix}.orders.exec.acct-1`,
        });
        expect(stored?.json()).toEqual({ from });
      }
      expect(seenByA.messages.map((m) => [m.subject, m.data.from])).toEqual([['orders.exec.acct-1', 'a']]);
      expect(seenByB.messages.map((m) => [m.subject, m.data.from])).toEqual([['orders.exec.acct-1', 'b']]);
    } finally {
      await Promise.all([a?.close(), b?.close()]);
      await deleteStreams(servers, (name) => name.startsWith(`BOURSE_${run}_`));
      await nc.close();
    }
  });
});

describeWithNats('NATS bus: the kept stream and the upgrade to it [nats]', () => {
  const logger = createLogger({ level: 'silent' });
  const id = () =>
    `${Math.floor(Date.now() / 1000)}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

  it('keeps orders.shard.> in a stream of its own: Interest retention, no max_age, durables without inactivity limit', async () => {
    const servers = serviceUrl('nats');
    const stream = `${STREAM_PREFIX}${id()}_kept`;
    const nc = await connect({ servers });
    try {
      const bus = await openNatsBus({ servers, stream, subjectPrefix: 'kept.', logger });
      await bus.declareDurable('orders-shard-1', 'orders.shard.1', {
        ackWaitMs: 1000,
        keep: 'until-consumed',
      });
      await bus.declareDurable('funding', 'users.registered.*');
      const jsm = await jetstreamManager(nc);
      const ordinary = await jsm.streams.info(stream);
      const kept = await jsm.streams.info(`${stream}_KEPT`);
      expect(ordinary.config.retention).toBe(RetentionPolicy.Limits);
      expect(ordinary.config.subjects).not.toContain('kept.orders.>');
      expect(kept.config).toMatchObject({
        subjects: ['kept.orders.shard.>'],
        retention: RetentionPolicy.Interest,
        discard: DiscardPolicy.New,
        max_age: 0,
        num_replicas: ordinary.config.num_replicas,
      });
      const shardConsumer = await jsm.consumers.info(`${stream}_KEPT`, 'kept_orders-shard-1');
      expect(shardConsumer.config.inactive_threshold ?? 0).toBe(0);
      const funding = await jsm.consumers.info(stream, 'kept_funding');
      expect(funding.config.inactive_threshold).toBe(nanos(DURABLE_INACTIVE_MS));
      // an acknowledged message leaves the kept stream; one not yet consumed stays
      const box = inbox<{ n: number }>();
      await bus.publish('orders.shard.1', { n: 1 });
      expect((await jsm.streams.info(`${stream}_KEPT`)).state.messages).toBe(1);
      const stop = await bus.subscribe('orders.shard.1', box.handler, {
        durable: 'orders-shard-1',
        ackWaitMs: 1000,
        keep: 'until-consumed',
      });
      await waitFor(() => box.messages.length === 1, 'the message');
      await stop();
      // the server removes it once acknowledged (asynchronously): look until it has, or 5 s
      const deadline = Date.now() + 5000;
      let left = (await jsm.streams.info(`${stream}_KEPT`)).state.messages;
      while (left > 0 && Date.now() < deadline) {
        await sleep(50);
        left = (await jsm.streams.info(`${stream}_KEPT`)).state.messages;
      }
      expect(left).toBe(0);
      await bus.close();
    } finally {
      await deleteStreams(servers, ofStream(stream));
      await nc.close();
    }
  });

  it('starts on a NATS that has the older single stream: moves the shard consumers and what they had not read', async () => {
    const servers = serviceUrl('nats');
    const stream = `${STREAM_PREFIX}${id()}_upgrade`;
    const prefix = 'up.';
    const nc = await connect({ servers });
    const js = jetstream(nc);
    try {
      const jsm = await jetstreamManager(nc);
      // what the previous version made: one stream over orders.> (1 h), its shard consumer inside it
      await jsm.streams.add({
        name: stream,
        subjects: ['md.>', 'orders.>', 'users.>', 'news.>'].map((s) => prefix + s),
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: nanos(60 * 60 * 1000),
      });
      await jsm.consumers.add(stream, {
        durable_name: 'up_orders-shard-2',
        filter_subject: `${prefix}orders.shard.2`,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        ack_wait: nanos(1000),
        inactive_threshold: nanos(DURABLE_INACTIVE_MS),
      });
      const enc = (data: unknown) => new TextEncoder().encode(JSON.stringify(data));
      await js.publish(`${prefix}orders.shard.2`, enc({ n: 0 }));
      // n = 0 was read and acknowledged by the old node; 1–3 were not (the shard had no leader)
      const old = await js.consumers.get(stream, 'up_orders-shard-2');
      const first = await old.next({ expires: 2000 });
      expect(first?.json()).toEqual({ n: 0 });
      await first!.ackAck();
      for (let n = 1; n <= 3; n++) await js.publish(`${prefix}orders.shard.2`, enc({ n }));
      await js.publish(`${prefix}orders.exec.acct-1`, enc({ exec: 1 }));

      const bus = await openNatsBus({ servers, stream, subjectPrefix: prefix, logger });
      const ordinary = await jsm.streams.info(stream);
      expect(ordinary.config.subjects.sort()).toEqual(
        ['md.>', 'news.>', 'orders.*', 'orders.account.>', 'orders.exec.>', 'users.>'].map((s) => prefix + s),
      );
      expect(ordinary.state.messages).toBeGreaterThanOrEqual(1); // the ordinary events stay where they were
      const consumersLeft: string[] = [];
      for await (const c of jsm.consumers.list(stream)) consumersLeft.push(c.name);
      expect(consumersLeft).toEqual([]);
      const moved = await jsm.consumers.info(`${stream}_KEPT`, 'up_orders-shard-2');
      expect(moved.config.filter_subject).toBe(`${prefix}orders.shard.2`);
      expect(moved.config.inactive_threshold ?? 0).toBe(0);

      // a second process of the new version starts on the upgraded server: nothing to move, no error
      const second = await openNatsBus({ servers, stream, subjectPrefix: prefix, logger });
      const box = inbox<{ n: number }>();
      await second.subscribe('orders.shard.2', box.handler, {
        durable: 'orders-shard-2',
        ackWaitMs: 1000,
        keep: 'until-consumed',
      });
      await bus.publish('orders.shard.2', { n: 4 });
      await waitFor(() => box.messages.length >= 4, 'the moved messages and the new one');
      await sleep(100);
      expect(box.messages.map((m) => m.data.n).sort()).toEqual([1, 2, 3, 4]);
      await Promise.all([bus.close(), second.close()]);
    } finally {
      await deleteStreams(servers, ofStream(stream));
      await nc.close();
    }
  });
});

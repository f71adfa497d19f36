/**
 * The bus on a 3-node NATS JetStream cluster (replicas 3): kill -9 of the stream's leader node
 * while events are published and a durable consumer reads them loses no acknowledged event, and
 * publishing goes on. Numbers are printed, not asserted.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, expect, it, vi } from 'vitest';
import { type NatsCluster, startNatsCluster } from '../../src/cli/cluster-nats.ts';
import { openNatsBus } from '../../src/platform/bus/nats.ts';
import type { Bus } from '../../src/platform/bus/types.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { describeWithNatsServer } from '../support/nats-cluster.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 60_000 });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const EVENTS = 600;
const STREAM = 'BOURSE_KILL';

describeWithNatsServer('the bus on a 3-node NATS cluster', () => {
  let cluster: NatsCluster | undefined;
  let bus: Bus | undefined;
  afterAll(async () => {
    await bus?.close();
    await cluster?.stop();
  });

  it('loses no acknowledged event when a node is killed, and publishing goes on', async () => {
    const started = Date.now();
    cluster = await startNatsCluster();
    console.log(`3 NATS nodes healthy after ${Date.now() - started} ms`);
    bus = await openNatsBus({
      servers: cluster.urls,
      stream: STREAM,
      replicas: 3,
      logger: createLogger({ level: 'silent' }),
    });
    const delivered = new Map<number, number>(); // id → deliveries
    await bus.subscribe<{ id: number }>(
      'md.trade.*',
      (msg) => void delivered.set(msg.data.id, (delivered.get(msg.data.id) ?? 0) + 1),
      { durable: 'kill-test' },
    );

    // an observer connection, to find and kill the node that leads the stream
    const nc = await connect({ servers: cluster.urls.split(',') });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(STREAM);
    expect(info.config.num_replicas).toBe(3);
    // the kept stream (orders.shard.>) is replicated like it
    expect((await jsm.streams.info(`${STREAM}_KEPT`)).config.num_replicas).toBe(3);
    const victim = info.cluster?.leader;
    expect(cluster.nodes.map((n) => n.name)).toContain(victim);

    // publish ids 1..EVENTS one at a time; a failed publish is retried (same id) until acked
    const acked = new Set<number>();
    let failures = 0;
    let killedAt = 0;
    let firstAckAfterKill = 0;
    let longestGap = 0;
    let lastAck = Date.now();
    for (let id = 1; id <= EVENTS; id++) {
      if (id === EVENTS / 3) {
        killedAt = Date.now();
        await cluster.kill(victim!);
        console.log(`killed ${victim} (stream leader) after ${acked.size} acked events`);
      }
      for (;;) {
        try {
          await bus.publish(`md.trade.S${id % 7}`, { id });
          break;
        } catch {
          failures++;
          await sleep(100);
        }
      }
      const now = Date.now();
      longestGap = Math.max(longestGap, now - lastAck);
      lastAck = now;
      if (killedAt && !firstAckAfterKill) firstAckAfterKill = now;
      acked.add(id);
    }
    expect(acked.size).toBe(EVENTS);

    const deadline = Date.now() + 120_000;
    const missing = () => [...acked].filter((id) => !delivered.has(id));
    while (missing().length > 0 && Date.now() < deadline) await sleep(100);
    const after = await jsm.streams.info(STREAM);
    const duplicates = [...delivered.values()].reduce((sum, n) => sum + n - 1, 0);
    console.log(
      JSON.stringify({
        published: EVENTS,
        acked: acked.size,
        failedPublishAttempts: failures,
        delivered: delivered.size,
        duplicates,
        firstAckAfterKillMs: firstAckAfterKill - killedAt,
        longestPublishGapMs: longestGap,
        newStreamLeader: after.cluster?.leader,
        storedInStream: after.state.messages,
      }),
    );
    expect(missing()).toEqual([]);
    expect(after.cluster?.leader).not.toBe(victim);
    await nc.close();

    // and a close cannot hang, even with every node gone
    for (const node of cluster.nodes) if (node.child.running()) await cluster.kill(node.name);
    const closing = Date.now();
    await bus.close();
    bus = undefined;
    console.log(`bus closed ${Date.now() - closing} ms after every NATS node was killed`);
  });
});

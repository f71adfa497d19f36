/**
 * A local NATS JetStream cluster: the `nats-server` binary started N times (3 by default) on free
 * loopback ports, routed to each other, each with its own store directory. For `bourse cluster`
 * and for the tests that kill a node.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { type Child, spawnChild } from './cluster-child.ts';
import { freePorts } from './cluster-ports.ts';

export interface NatsNode {
  /** server name: n1, n2, … (what a stream's `cluster.leader` names) */
  readonly name: string;
  /** nats://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly clusterPort: number;
  readonly monitorPort: number;
  readonly storeDir: string;
  child: Child;
}

export interface NatsCluster {
  readonly nodes: readonly NatsNode[];
  /** every node's URL, comma-separated (NATS_URL) */
  readonly urls: string;
  /** the folder holding the store directories and logs */
  readonly dir: string;
  /** SIGKILL one node (no goodbye to its peers or clients), resolving once it is gone */
  kill(name: string): Promise<void>;
  /** starts a stopped or killed node again on the same ports and store */
  restart(name: string): Promise<void>;
  /** stops every node (bounded), and removes the folder if the launcher made it */
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  /** how many nodes (default 3); 1 is a standalone JetStream server, not a cluster */
  nodes?: number;
  /** where the stores and logs go; default: a new temporary folder, removed by stop() */
  dir?: string;
  /** the nats-server binary; default: BOURSE_NATS_SERVER, else nats-server on the PATH or /usr/sbin */
  binary?: string;
  /** how long to wait for every node to report JetStream healthy */
  readyTimeoutMs?: number;
}

/** The nats-server binary to use, or undefined if there is none. */
export function natsServerBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.BOURSE_NATS_SERVER) return env.BOURSE_NATS_SERVER;
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin'];
  return dirs
    .filter((d) => d.startsWith('/'))
    .map((d) => join(d, 'nats-server'))
    .find((p) => existsSync(p));
}

export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const count = options.nodes ?? 3;
  const binary = options.binary ?? natsServerBinary();
  if (!binary) throw new Error('no nats-server binary: install it or set BOURSE_NATS_SERVER');
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'bourse-nats-')));
  const ports = await freePorts(count * 3);
  const nodes: NatsNode[] = [];
  for (let i = 0; i < count; i++) {
    const name = `n${i + 1}`;
    const storeDir = join(dir, name);
    await mkdir(storeDir, { recursive: true });
    const port = ports[i * 3]!;
    nodes.push({
      name,
      url: `nats://127.0.0.1:${port}`,
      port,
      clusterPort: ports[i * 3 + 1]!,
      monitorPort: ports[i * 3 + 2]!,
      storeDir,
      child: undefined as unknown as Child,
    });
  }

  const launch = (node: NatsNode): Child => {
    const routes = nodes.filter((n) => n !== node).map((n) => `nats://127.0.0.1:${n.clusterPort}`);
    // prettier-ignore
    const args = [
      '-a',
      '127.0.0.1',
      '-p',
      String(node.port),
      '-m',
      String(node.monitorPort),
      '-n',
      node.name,
      '-js',
      '-sd',
      node.storeDir,
    ];
    // one node is a standalone server: JetStream refuses a cluster without routes
    if (nodes.length > 1)
      args.push(
        '--cluster_name',
        'bourse',
        '--cluster',
        `nats://127.0.0.1:${node.clusterPort}`,
        '--routes',
        routes.join(','),
      );
    return spawnChild(`nats ${node.name}`, binary, args, { logFile: join(dir, `${node.name}.log`) });
  };

  const stop = async () => {
    await Promise.all(nodes.map((n) => n.child?.stop(5000)));
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };

  try {
    for (const node of nodes) node.child = launch(node);
    await waitHealthy(nodes, options.readyTimeoutMs ?? 30_000);
  } catch (err) {
    await stop();
    throw err;
  }

  const byName = (name: string): NatsNode => {
    const node = nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no NATS node ${name}`);
    return node;
  };
  return {
    nodes,
    urls: nodes.map((n) => n.url).join(','),
    dir,
    kill: async (name) => {
      const node = byName(name);
      node.child.signal('SIGKILL');
      await node.child.exited;
    },
    restart: async (name) => {
      const node = byName(name);
      await node.child.stop(5000);
      node.child = launch(node);
      await waitHealthy([node], options.readyTimeoutMs ?? 30_000);
    },
    stop,
  };
}

/** Polls each node's /healthz (JetStream up and its meta group current) until all answer ok. */
async function waitHealthy(nodes: readonly NatsNode[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const node of nodes) {
    let last = 'no answer';
    for (;;) {
      if (!node.child.running())
        throw new Error(`NATS node ${node.name} exited on start:\n${node.child.tail()}`);
      try {
        const res = await fetch(`http://127.0.0.1:${node.monitorPort}/healthz`, {
          signal: AbortSignal.timeout(2000),
        });
        last = `${res.status} ${await res.text()}`;
        if (res.ok) break;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline)
        throw new Error(
          `NATS node ${node.name} not healthy after ${timeoutMs} ms (${last}):\n${node.child.tail()}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

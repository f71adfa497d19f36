/**
 * An orders node: the leader of its shard, or its hot standby (issue 11; docs/design.md "Cluster").
 *
 *   const node = await startOrdersNode(deps, { shard: 0 });
 *   node.status()            // { role: 'leader' | 'standby' | 'lost' | 'single', epoch, lag, … }
 *   await node.register(app) // the orders API: the leader's handlers, 503 (retriable) elsewhere
 *   await node.leader()      // resolves once this node leads
 *
 * On PostgreSQL the node takes the shard's lock if it is free and starts the service fenced by its
 * epoch. Otherwise it is a standby: it restores the newest snapshot plus the journal, then follows
 * the journal every `followIntervalMs` (its engine stays within one interval of the leader's
 * commits), while it waits in the database for the lock. When the leader dies its session ends,
 * the lock passes here at once, the epoch goes up (which fences the old leader's commits and
 * projections), the standby reads the journal's last entries and starts the service from the state
 * it followed: no snapshot load, no full replay. On PGlite it is the plain service ('single').
 */
import type { FastifyInstance } from 'fastify';
import type { OrdersClient } from './client.ts';
import {
  createOrdersService,
  type OrdersService,
  type OrdersServiceDeps,
  recoverOptionsOf,
} from './index.ts';
import { type LeaderRole, type LeadershipOptions, openLeadership } from './leadership.ts';
import { notLeader } from './problems.ts';
import { follow, type Restored, restore } from './recovery.ts';
import { DEFAULT_PREFIX, ordersRoutes } from './routes.ts';

export interface OrdersNodeOptions extends LeadershipOptions {
  /** ms between a standby's reads of the journal (default 200) */
  followIntervalMs?: number;
  /** the service could not start after a takeover (the node gave the lock up again) */
  onFatal?(err: unknown): void;
}

export interface OrdersNodeStatus {
  /** 'single': no leadership (PGlite); 'lost': was leader, lease or epoch lost, writes nothing */
  role: LeaderRole | 'single';
  shard: number;
  holder: string | null;
  epoch: number;
  /** the last journal seq this node has applied (committed, for a leader) */
  seq: number;
  /** standby: how many entries behind the leader's journal it was at its last look (0: leader) */
  lag: number;
}

export interface OrdersNode {
  status(): OrdersNodeStatus;
  /** the service while this node leads (or after it lost the lead, until closed), else null */
  service(): OrdersService | null;
  /** resolves once this node leads and its service is started */
  leader(): Promise<OrdersService>;
  /** the orders API in-process: the leader's handlers; 503 (retriable) on a standby */
  readonly client: OrdersClient;
  register(app: FastifyInstance, opts?: { prefix?: string }): Promise<void>;
  close(): Promise<void>;
}

/** A client that forwards every call to the service once there is one. */
function forwardingClient(target: () => OrdersClient | null): OrdersClient {
  return new Proxy({} as OrdersClient, {
    get:
      (_, name) =>
      (...args: unknown[]) => {
        const client = target();
        if (!client)
          return Promise.reject(notLeader('standby', 'this orders instance is a standby; its leader writes'));
        return (client[name as keyof OrdersClient] as (...a: unknown[]) => unknown)(...args);
      },
  });
}

export async function startOrdersNode(
  deps: OrdersServiceDeps,
  options: OrdersNodeOptions = {},
): Promise<OrdersNode> {
  const logger = deps.logger.child({ service: 'orders' });
  const leadership = await openLeadership(deps.db, options);
  let service: OrdersService | null = null;
  let resolveLeader: (s: OrdersService) => void = () => {};
  let rejectLeader: (err: unknown) => void = () => {};
  const leading = new Promise<OrdersService>((resolve, reject) => {
    resolveLeader = resolve;
    rejectLeader = reject;
  });
  leading.catch(() => {});
  let closed = false;
  let followed: Restored | null = null;
  let lastLag = 0;
  let timer: NodeJS.Timeout | undefined;
  let following: Promise<void> = Promise.resolve();

  const node: OrdersNode = {
    status: () => ({
      role: leadership ? leadership.role() : 'single',
      shard: leadership?.shard ?? 0,
      holder: leadership?.holder ?? null,
      epoch: leadership?.epoch() ?? 0,
      seq: service ? service.sequencer.committedSeq() : (followed?.lastSeq ?? 0),
      lag: service ? 0 : lastLag,
    }),
    service: () => service,
    leader: () => leading,
    client: forwardingClient(() => service?.client ?? null),
    register: async (app, opts = {}) => {
      await app.register(ordersRoutes(node.client), { prefix: opts.prefix ?? DEFAULT_PREFIX });
    },
    close: async () => {
      closed = true;
      clearTimeout(timer);
      await following;
      await service?.close();
      await leadership?.close();
    },
  };

  if (!leadership) {
    service = await createOrdersService(deps);
    resolveLeader(service);
    return node;
  }
  if (await leadership.tryAcquire()) {
    logger.info({ shard: leadership.shard, epoch: leadership.epoch() }, 'orders: leading the shard');
    try {
      service = await createOrdersService({ ...deps, leadership });
    } catch (err) {
      await leadership.close();
      throw err;
    }
    resolveLeader(service);
    return node;
  }

  // --- standby ---------------------------------------------------------------------------------
  const recoverOptions = recoverOptionsOf(deps.config ?? {});
  const step = async (): Promise<void> => {
    try {
      if (!followed) followed = await restore(deps.db, recoverOptions);
      lastLag = await follow(deps.db, followed);
    } catch (err) {
      // e.g. the leader archived entries this standby had not read yet: start again from a snapshot
      logger.warn({ err }, 'orders standby: following the journal failed; restoring again');
      followed = null;
    }
  };
  const followIntervalMs = options.followIntervalMs ?? 200;
  const loop = () => {
    if (closed || leadership.role() !== 'standby') return;
    following = step().then(() => {
      if (!closed && leadership.role() === 'standby') timer = setTimeout(loop, followIntervalMs);
    });
  };
  // wait in the database from now on, restore meanwhile: a lock session left idle while a long
  // journal is replayed would be ended by the server after the lease
  const acquired = leadership.acquire();
  void acquired.then(
    async (epoch) => {
      clearTimeout(timer);
      await following;
      if (closed) return;
      logger.warn({ shard: leadership.shard, epoch }, 'orders: took the shard over');
      try {
        // after the epoch went up nothing else can commit: this reads the journal's true end
        if (followed) await follow(deps.db, followed);
        service = await createOrdersService({ ...deps, leadership, ...(followed && { restored: followed }) });
        followed = null;
        resolveLeader(service);
      } catch (err) {
        logger.fatal({ err }, 'orders: could not start after taking the shard over; giving it up');
        await leadership.close();
        rejectLeader(err);
        options.onFatal?.(err);
      }
    },
    (err: unknown) => {
      if (closed) return;
      logger.error({ err }, 'orders standby: lost its database session while waiting');
      rejectLeader(err);
      options.onFatal?.(err);
    },
  );
  following = step();
  await following;
  logger.info(
    { shard: leadership.shard, seq: (followed as Restored | null)?.lastSeq },
    'orders: standby, following the journal',
  );
  loop();
  return node;
}

/**
 * The once-per-cluster leader of market data (issue 11; docs/design.md "Cluster"): the instance
 * that runs the simulated feeds and writes and publishes bars (and consolidated quotes). Every
 * other instance follows: it serves reads and streams from what the leader publishes.
 *
 * Elected with the same PostgreSQL lease as an orders shard's writer (platform/db/lease.ts), under
 * a lock key of its own; on taking it the leader increments `cluster_leaders.epoch` for
 * 'market-data' (migration 013). An instance that is not the leader waits in the database for
 * the lock, so when the leader dies (its session closes) or is paused past its lease (the server
 * ends its session) another takes over at once. One that lost its lease while paused steps down
 * when it resumes and waits again.
 *
 * PGlite, and the all-in-one process: one instance, the leader from the start ('single').
 */
import { type Lease, openLease } from '../../platform/db/lease.ts';
import type { Db } from '../../platform/db/types.ts';
import type { Logger } from '../../platform/logger.ts';

/** classid of the advisory lock ('md'); objid 0: one market-data leader per database */
export const MARKET_DATA_LEADER_LOCK = 0x6d64;
const NAME = 'market-data';

export type MarketDataRole = 'leader' | 'follower' | 'single';

export interface MarketDataLeaderStatus {
  role: MarketDataRole;
  holder: string | null;
  epoch: number;
}

export interface MarketDataLeader {
  isLeader(): boolean;
  status(): MarketDataLeaderStatus;
  /** called on every change of `isLeader()` */
  onChange(cb: (leading: boolean) => void): void;
  close(): Promise<void>;
}

export interface MarketDataLeaderOptions {
  /** how long a paused leader keeps the lead (default 5,000; BOURSE_ORDERS_LEASE_MS in config) */
  leaseMs?: number;
  holder?: string;
  /** between attempts to open the lock's session again after it failed (default 1,000) */
  retryMs?: number;
}

export async function startMarketDataLeader(
  db: Db,
  logger: Logger,
  options: MarketDataLeaderOptions = {},
): Promise<MarketDataLeader> {
  const listeners: ((leading: boolean) => void)[] = [];
  if (!db.session) {
    return {
      isLeader: () => true,
      status: () => ({ role: 'single', holder: null, epoch: 0 }),
      onChange: (cb) => void listeners.push(cb),
      close: async () => {},
    };
  }

  let lease: Lease | null = null;
  let leading = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const set = (value: boolean) => {
    if (leading === value) return;
    leading = value;
    for (const cb of listeners) cb(value);
  };

  const open = (): Promise<Lease | null> =>
    openLease(db, {
      classId: MARKET_DATA_LEADER_LOCK,
      objId: 0,
      ...(options.holder !== undefined && { holder: options.holder }),
      ...(options.leaseMs !== undefined && { leaseMs: options.leaseMs }),
      takeOver: async (session, holder) => {
        const { rows } = await session.query<{ epoch: number }>(
          `INSERT INTO cluster_leaders (name, epoch, holder, since) VALUES ($1, 1, $2, now())
           ON CONFLICT (name) DO UPDATE
             SET epoch = cluster_leaders.epoch + 1, holder = EXCLUDED.holder, since = EXCLUDED.since
           RETURNING epoch`,
          [NAME, holder],
        );
        return Number(rows[0]!.epoch);
      },
    });

  const lead = (current: Lease) => {
    current.onLost((err) => {
      logger.warn({ err }, 'market-data: lost the lead; following');
      set(false);
      void current.close().catch(() => {});
      void campaign();
    });
    logger.info({ epoch: current.epoch() }, 'market-data: leading (simulated feeds, bars)');
    set(true);
  };

  /** Waits in the database for the lock, then leads; a failed session starts over. */
  const wait = async (current: Lease): Promise<void> => {
    try {
      await current.acquire();
    } catch (err) {
      if (closed) return;
      logger.warn({ err }, 'market-data: leader lease session failed; trying again');
      void current.close().catch(() => {});
      retry = setTimeout(() => void campaign(), options.retryMs ?? 1000);
      return;
    }
    if (closed) return;
    lead(current);
  };

  /** A new lease: leads if the lock is free, else waits for it. */
  const campaign = async (): Promise<void> => {
    if (closed) return;
    try {
      const current = (await open())!;
      lease = current;
      if (closed) return void (await current.close());
      if (await current.tryAcquire()) lead(current);
      else void wait(current);
    } catch (err) {
      if (closed) return;
      logger.warn({ err }, 'market-data: cannot open the leader lease; trying again');
      retry = setTimeout(() => void campaign(), options.retryMs ?? 1000);
    }
  };

  // at start-up: the instance knows before its feeds start whether it leads
  const first = (await open())!;
  lease = first;
  if (await first.tryAcquire()) lead(first);
  else {
    logger.info('market-data: following (another instance leads)');
    void wait(first);
  }

  return {
    isLeader: () => leading,
    status: () => ({
      role: leading ? 'leader' : 'follower',
      holder: lease?.holder ?? null,
      epoch: leading ? (lease?.epoch() ?? 0) : 0,
    }),
    onChange: (cb) => void listeners.push(cb),
    close: async () => {
      closed = true;
      clearTimeout(retry);
      set(false);
      await lease?.close().catch(() => {});
    },
  };
}

/**
 * One writer per orders shard (issue 11; docs/design.md "Cluster").
 *
 *   lock:    pg_advisory_lock(ORDERS_LEADER_LOCK, shard) on a dedicated connection (session-level)
 *   fence:   on taking the lock, orders_leader.epoch += 1 (migration 010); every journal commit
 *            inserts only while the shard's epoch is still its own (persistence.ts)
 *   lease:   the lock session has idle_session_timeout = leaseMs and touches itself every
 *            leaseMs / 3 from a thread of its own, so a leader that is paused (SIGSTOP, a frozen
 *            VM; or its main thread stalled for longer than the session's stall budget) past its
 *            lease has its session ended by the server, which frees the lock for the standby. A
 *            main thread merely busy for a second on a loaded machine keeps it.
 *
 * Why PostgreSQL rather than a NATS KV lease: the journal, the thing to protect, is in PostgreSQL,
 * so the lock, the epoch and the check on every commit live in one system, with one failure
 * domain and no clock on our side. A process that dies loses its connection and therefore the
 * lock at once (the standby's blocking pg_advisory_lock returns then: no polling delay). NATS KV
 * would add a second system whose view can disagree with the database's; the epoch check in
 * the journal's own statement would still be needed.
 *
 * The lock, its heartbeat and lease are platform/db/lease.ts (market data's once-per-cluster leader
 * uses the same); this file is what makes it an orders shard's: the key and the fencing epoch.
 *
 * PGlite has no second connection (one process owns the folder): `openLeadership` returns null
 * and the service writes unfenced, as before.
 */
import { type LeaseRole, openLease } from '../../platform/db/lease.ts';
import type { Db } from '../../platform/db/types.ts';

/** classid of the two-key advisory lock ('or'); objid is the shard. Migrations use another key. */
export const ORDERS_LEADER_LOCK = 0x6f72;

export type LeaderRole = LeaseRole;

export interface LeadershipOptions {
  /** the orders shard (0 while there is one) */
  shard?: number;
  /** who holds it, as recorded in orders_leader; default host/pid */
  holder?: string;
  /** how long a silent (paused) holder keeps the lock (default 5,000; BOURSE_ORDERS_LEASE_MS in config) */
  leaseMs?: number;
}

export interface Leadership {
  readonly shard: number;
  readonly holder: string;
  /** the fencing token: this holder's epoch (0 until it leads) */
  epoch(): number;
  readonly leaseMs: number;
  role(): LeaderRole;
  /** Takes the lock if it is free now; true when this process leads (epoch incremented). */
  tryAcquire(): Promise<boolean>;
  /** Waits in the database until the lock is free, then takes over; resolves with the new epoch. */
  acquire(): Promise<number>;
  /** Called once if the lease is lost (session ended, heartbeat failed): stop writing. */
  onLost(cb: (err: Error) => void): void;
  /** Releases the lock (ends the session). */
  close(): Promise<void>;
}

export async function openLeadership(db: Db, options: LeadershipOptions = {}): Promise<Leadership | null> {
  const shard = options.shard ?? 0;
  const lease = await openLease(db, {
    classId: ORDERS_LEADER_LOCK,
    objId: shard,
    ...(options.holder !== undefined && { holder: options.holder }),
    ...(options.leaseMs !== undefined && { leaseMs: options.leaseMs }),
    // the fencing token: every journal commit of the old holder is refused from now on
    takeOver: async (session, holder) => {
      const { rows } = await session.query<{ epoch: number }>(
        `INSERT INTO orders_leader (shard, epoch, holder, since) VALUES ($1, 1, $2, now())
         ON CONFLICT (shard) DO UPDATE
           SET epoch = orders_leader.epoch + 1, holder = EXCLUDED.holder, since = EXCLUDED.since
         RETURNING epoch`,
        [shard, holder],
      );
      return rows[0]!.epoch;
    },
  });
  if (!lease) return null;
  return { ...lease, shard };
}

/**
 * A leader lease on PostgreSQL: a session-level advisory lock on a connection of its own (issue
 * 11; docs/design.md "Cluster"). The orders shards' writers (services/orders/leadership.ts) and
 * the once-per-cluster work of market data (services/market-data/leader.ts) are both elected
 * with it, each under its own lock key.
 *
 *   lock:    pg_advisory_lock(classId, objId) on a dedicated connection: it lives exactly as long
 *            as the session, so a process that dies (its connection closes) frees it at once, and
 *            a waiter blocked in pg_advisory_lock gets it then (no polling interval)
 *   take:    on taking it, `takeOver(session)` runs on the lock's session (the orders shard
 *            increments its fencing epoch there) and returns the new epoch
 *   lease:   the session has idle_session_timeout = leaseMs and touches itself every leaseMs / 3
 *            from a worker thread of its own (db.session's keepAliveMs, session-thread.mjs), so a
 *            holder paused (SIGSTOP, a frozen VM; or a main thread silent past the session's
 *            stall budget) past its lease has its session ended by the server, which frees the
 *            lock for a waiter; the holder learns it (onLost) when it resumes. A main thread
 *            merely busy for a second (start-up on a loaded machine) keeps it.
 *
 * PGlite has no second connection (one process owns the folder): `openLease` returns null and
 * the caller is alone, hence the leader.
 */
import { hostname } from 'node:os';
import type { Db, DbSession } from './types.ts';

export type LeaseRole = 'standby' | 'leader' | 'lost' | 'closed';

export interface LeaseOptions {
  /** the advisory lock's two keys: classId names the kind of leadership, objId which one */
  classId: number;
  objId: number;
  /** who holds it; default host/pid */
  holder?: string;
  /** how long a silent (paused) holder keeps the lock (default 5,000) */
  leaseMs?: number;
  /** runs on the lock's session right after the lock is taken; returns the holder's epoch */
  takeOver(session: DbSession, holder: string): Promise<number>;
}

export interface Lease {
  readonly holder: string;
  readonly leaseMs: number;
  /** the holder's epoch (0 until it leads) */
  epoch(): number;
  role(): LeaseRole;
  /** Takes the lock if it is free now; true when this process leads. */
  tryAcquire(): Promise<boolean>;
  /** Waits in the database until the lock is free, then takes over; resolves with the new epoch. */
  acquire(): Promise<number>;
  /** Called once if the lease is lost while leading (session ended, heartbeat failed). */
  onLost(cb: (err: Error) => void): void;
  /** Releases the lock (ends the session). */
  close(): Promise<void>;
}

export async function openLease(db: Db, options: LeaseOptions): Promise<Lease | null> {
  if (!db.session) return null;
  const holder = options.holder ?? `${hostname()}/${process.pid}`;
  const leaseMs = options.leaseMs ?? 5000;
  const session: DbSession = await db.session({
    idleTimeoutMs: leaseMs,
    keepAliveMs: Math.max(50, Math.floor(leaseMs / 3)),
  });
  // a waiter blocked in pg_advisory_lock is not reading its socket: have the server look, so a
  // dead waiter's wait ends instead of one day taking the lock for nobody
  await session.query(`SET client_connection_check_interval = ${Math.max(100, Math.floor(leaseMs / 3))}`);

  let role: LeaseRole = 'standby';
  let epoch = 0;
  let lostCb: ((err: Error) => void) | null = null;
  let lostErr: Error | null = null;

  const lose = (err: Error) => {
    if (role === 'closed' || role === 'lost') return;
    const wasLeader = role === 'leader';
    role = 'lost';
    if (wasLeader) {
      lostErr = err;
      lostCb?.(err);
    }
  };
  session.onLost(lose);

  async function takeOver(): Promise<number> {
    epoch = await options.takeOver(session, holder);
    role = 'leader';
    return epoch;
  }

  return {
    holder,
    leaseMs,
    epoch: () => epoch,
    role: () => role,
    tryAcquire: async () => {
      const { rows } = await session.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
        options.classId,
        options.objId,
      ]);
      if (!rows[0]!.ok) return false;
      await takeOver();
      return true;
    },
    acquire: async () => {
      await session.query('SELECT pg_advisory_lock($1, $2)', [options.classId, options.objId]);
      return takeOver();
    },
    onLost: (cb) => {
      lostCb = cb;
      if (lostErr) cb(lostErr);
    },
    close: async () => {
      role = 'closed';
      await session.close();
    },
  };
}

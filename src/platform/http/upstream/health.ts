/**
 * Active health checks: GET <instance>/healthz every interval. `fall` consecutive failures take
 * the instance out of the rotation, `rise` consecutive successes put it back.
 *
 * Instances that answer with a role (the orders service: one leader per shard, the others
 * standbys, a fenced ex-leader) are in the rotation only while they lead. A role is an answer, not
 * a symptom, so it needs no `fall` or `rise`: an instance that says `standby` or `fenced` (in a
 * probe, or in a request's answer: `notLeader`) is out at once, and one that says it leads is back
 * at once. `kick()` probes again now, or `kickGapMs` after the last probe began (a kick is never
 * dropped: the probe before it may have been answered before a takeover): the upstream calls it when an
 * instance failed or turned out not to lead, so a takeover is seen at the next probe's answer
 * rather than at the next interval.
 */
import type { InstancePool } from './http.ts';

export interface HealthOptions {
  intervalMs: number;
  fall: number;
  rise: number;
  timeoutMs: number;
  onChange?: (healthy: boolean) => void;
}

/** roles that take an instance out of the rotation (it answers, but must not be sent requests) */
export const NOT_LEADER_ROLES: ReadonlySet<string> = new Set(['standby', 'fenced']);

export interface HealthCheck {
  healthy(): boolean;
  /** the role it last answered with, when it answers with one */
  role(): string | undefined;
  /** one check now (tests; also the first one at start) */
  check(): Promise<boolean>;
  /** a check now unless one started within the last few milliseconds */
  kick(): void;
  /** a request's answer said the instance does not lead: out of the rotation now */
  notLeader(role: string): void;
  stop(): void;
}

/** kicks closer together than this share one probe (a burst of failed requests) */
const KICK_GAP_MS = 20;

type Probe = { ok: boolean; role?: string };

export function startHealthCheck(pool: InstancePool, options: HealthOptions): HealthCheck {
  let healthy = true; // optimistic until proven otherwise: a start must not wait for a check
  let role: string | undefined;
  let passes = 0;
  let fails = 0;
  let running: Promise<boolean> | undefined;
  let lastStart = 0;
  let kickTimer: NodeJS.Timeout | undefined;

  const probe = async (): Promise<Probe> => {
    const attempt: { requestId: string; role?: string } = { requestId: 'health-check' };
    try {
      const res = await pool.send(
        { method: 'GET', path: '/healthz', headers: { accept: 'application/json' } },
        attempt,
        options.timeoutMs,
      );
      return { ok: res.status === 200, ...(attempt.role !== undefined && { role: attempt.role }) };
    } catch {
      return { ok: false };
    }
  };

  const set = (value: boolean) => {
    if (healthy === value) return;
    healthy = value;
    options.onChange?.(value);
  };

  const apply = (result: Probe): boolean => {
    const wasNotLeader = role !== undefined && NOT_LEADER_ROLES.has(role);
    // a transport failure says nothing about the role: the last one known stays
    if (result.role !== undefined) role = result.role;
    if (result.role !== undefined && NOT_LEADER_ROLES.has(result.role)) {
      passes = 0;
      fails = options.fall;
      set(false);
    } else if (result.ok) {
      fails = 0;
      passes++;
      // it leads now (a takeover), or it is an ordinary instance that has passed `rise` checks
      if (wasNotLeader && result.role !== undefined) {
        passes = options.rise;
        set(true);
      } else if (passes >= options.rise) set(true);
    } else {
      passes = 0;
      fails++;
      if (fails >= options.fall) set(false);
    }
    return healthy;
  };

  const check = (): Promise<boolean> => {
    if (!running) lastStart = Date.now();
    running ??= probe().then((result) => {
      running = undefined;
      return apply(result);
    });
    return running;
  };

  const timer = setInterval(() => void check(), options.intervalMs);
  timer.unref();
  void check();
  return {
    healthy: () => healthy,
    role: () => role,
    check,
    kick: () => {
      // a kick is never dropped: one that comes while a probe runs, or too soon after one (whose
      // answer may predate what the kick is about, e.g. a takeover), gets a probe of its own after
      if (kickTimer) return;
      const wait = running ? KICK_GAP_MS : Math.max(0, lastStart + KICK_GAP_MS - Date.now());
      if (wait === 0) return void check();
      kickTimer = setTimeout(() => {
        kickTimer = undefined;
        void (running ?? Promise.resolve(true)).then(() => check());
      }, wait);
      kickTimer.unref();
    },
    notLeader: (answered) => {
      role = answered;
      passes = 0;
      fails = options.fall;
      set(false);
    },
    stop: () => {
      clearInterval(timer);
      clearTimeout(kickTimer);
    },
  };
}

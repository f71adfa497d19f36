/**
 * One service as its callers see it: several instances (URLs) behind round-robin, each with its
 * own keep-alive pool, health check and circuit breaker. The gateway keeps one per service; the
 * service roles that call orders and users (`--role market-data`, `reporting`, `fix`) keep theirs,
 * and give their typed clients a fetch over it (fetch.ts).
 *
 * Retries. A call may go to another instance whenever nothing reached the first one (connection
 * refused, breaker open): that is safe for any request. Once a request may have reached an
 * instance, it is sent again only when the caller says it is safe (`retry`: GETs, and POSTs
 * carrying a client_order_id or Idempotency-Key), with exponential backoff and full jitter.
 *
 * Leaders (`roleHeader`, the orders service). Of a shard's instances only the leader takes
 * requests; the others answer 503 with their role (`standby`, or `fenced` for an ex-leader), having
 * executed nothing. Such an answer takes the instance out of the rotation at once (health.ts),
 * probes the others at once, and sends the request on, whatever it is. When no instance leads
 * right now (a takeover under way: the old leader refuses connections or says `fenced`, the
 * standby still says `standby`), the call probes every instance and tries again, for up to
 * `leaderWaitMs`, before it answers 503. A role answer never counts against the breaker: the
 * standby that takes over must not find its circuit open.
 *
 * What counts against an instance (retry, breaker): only its own failures: no connection, a
 * timeout, a connection lost, a 5xx. A 4xx answer is passed back as it is, and a request that could
 * not even be built (a header value no HTTP client may send) is the caller's error: neither is
 * retried or counted, and the latter is never sent.
 */
import type { Logger } from '../../logger.ts';
import {
  asClientError,
  type Breaker,
  type BreakerState,
  createBreaker,
  isBreakerOpenError,
} from './breaker.ts';
import { type HealthCheck, NOT_LEADER_ROLES, startHealthCheck } from './health.ts';
import {
  ABORTED,
  type Attempt,
  createInstancePool,
  type InstancePool,
  nothingSent,
  type RawRequest,
  type RawResponse,
  type Unsendable,
  type UpstreamTls,
} from './http.ts';

/** The balancer's settings; the gateway's config extends them (src/gateway/config.ts reads each). */
export interface UpstreamConfig {
  /** one attempt's timeout, ms */
  upstreamTimeoutMs: number;
  /** connections kept open to each upstream instance */
  upstreamConnections: number;
  /** attempts of a retriable call, the first included */
  retryAttempts: number;
  /** first backoff; doubles per attempt, full jitter */
  retryBaseMs: number;
  /**
   * how long a call waits for an instance that leads (orders: a takeover under way, every
   * instance refusing or answering standby / fenced) before it answers 503, ms
   */
  leaderWaitMs: number;
  /** active health checks of each instance's /healthz */
  healthIntervalMs: number;
  /** consecutive failed checks that take an instance out, passed checks that put it back */
  healthFall: number;
  healthRise: number;
  /** opossum: failure percentage that opens a breaker, calls before it may, time open before a trial */
  breakerErrorPercent: number;
  breakerVolumeThreshold: number;
  breakerResetMs: number;
}

export interface CallOptions {
  requestId: string;
  /** may the request be sent a second time? */
  retry: boolean;
}

/**
 * Whether a raw request may be sent again once it may have reached an instance (`CallOptions.retry`
 * of `send`): reads (GET, HEAD), and a POST carrying an Idempotency-Key (the service answers a key
 * it has seen with the first outcome); never a streamed body, which cannot be read twice.
 */
export function resendable(request: Pick<RawRequest, 'method' | 'headers' | 'body'>): boolean {
  if (request.body !== undefined && typeof request.body !== 'string' && !Buffer.isBuffer(request.body))
    return false;
  if (request.method === 'GET' || request.method === 'HEAD') return true;
  return (
    request.method === 'POST' &&
    Object.keys(request.headers).some((h) => h.toLowerCase() === 'idempotency-key')
  );
}

export interface InstanceView {
  url: string;
  healthy: boolean;
  breaker: BreakerState;
  /** every connection to it is busy and requests wait for one */
  exhausted: boolean;
  /** the role it answers with (orders: leader, standby, fenced), when it has one */
  role?: string;
}

export interface UpstreamEvents {
  breaker?(upstream: string, url: string, state: BreakerState): void;
  health?(upstream: string, url: string, healthy: boolean): void;
  retry?(upstream: string): void;
  /** one attempt's outcome at one instance: answered (any status below 500), not_leader, failed */
  attempt?(upstream: string, url: string, outcome: 'answered' | 'not_leader' | 'failed'): void;
}

export interface InstanceAnswer {
  url: string;
  response?: RawResponse;
  /** no answer: the transport failure */
  error?: string;
}

/** Every instance is down, open or refused the connection: nothing was executed. */
export class UpstreamUnavailable extends Error {
  constructor(
    readonly upstream: string,
    /** true when an unsafe request (not retriable) may have reached an instance: its outcome is unknown */
    readonly maybeExecuted: boolean,
    readonly retryAfterSec: number,
    cause?: unknown,
  ) {
    super(`${upstream} service unavailable`, { cause });
    this.name = 'UpstreamUnavailable';
  }
}

/** The request cannot be sent as it is (e.g. a header value no HTTP client may send): the caller's error. */
export class UpstreamRequestInvalid extends Error {
  constructor(
    readonly upstream: string,
    readonly unsendable: Unsendable,
  ) {
    super(`cannot send the request to the ${upstream} service: ${unsendable.message}`);
    this.name = 'UpstreamRequestInvalid';
  }
}

export interface Upstream {
  readonly name: string;
  /** A typed call: `run` gets the chosen instance's URL and a fetch over its pool. */
  call<T>(options: CallOptions, run: (url: string, fetch: typeof globalThis.fetch) => Promise<T>): Promise<T>;
  /** A raw request, forwarded as it is. Any answer (4xx and 5xx included) is returned. */
  send(options: CallOptions, request: RawRequest): Promise<RawResponse>;
  /** the next instance in the rotation, for a connection the gateway pipes itself (WebSocket) */
  pick(): string | undefined;
  /**
   * The request to every instance at once, each answer or failure by URL: for operator views of
   * the instances themselves (their roles), so no balancing, breaker or retry.
   */
  each(request: RawRequest): Promise<InstanceAnswer[]>;
  instances(): InstanceView[];
  /** runs every health check now */
  checkHealth(): Promise<void>;
  /** waits for the calls in flight, then closes the pools */
  close(): Promise<void>;
  /** ends every call in flight now (shutdown deadline): they fail as unavailable, without retry */
  abort(): void;
}

interface Instance {
  pool: InstancePool;
  breaker: Breaker;
  health: HealthCheck;
}

const MAX_BACKOFF_MS = 2_000;
/** while no instance leads: first pause between rounds of probes, doubled up to the cap */
const LEADER_POLL_MS = 25;
const LEADER_POLL_MAX_MS = 100;

/** the instance answered that it does not lead (it executed nothing) */
const notLeaderAnswer = (attempt: Attempt): boolean =>
  attempt.status === 503 && attempt.role !== undefined && NOT_LEADER_ROLES.has(attempt.role);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createUpstream(
  name: string,
  urls: readonly string[],
  config: UpstreamConfig,
  logger: Logger,
  events: UpstreamEvents = {},
  tls?: UpstreamTls,
  /** the response header carrying an instance's role (leader / standby / fenced), if it has one */
  roleHeader?: string,
): Upstream {
  if (urls.length === 0) throw new Error(`upstream: no URL for the ${name} service`);
  const instances: Instance[] = urls.map((url) => {
    const pool = createInstancePool(url, config.upstreamConnections, tls, roleHeader);
    const breaker = createBreaker({
      name: `${name} ${url}`,
      errorPercent: config.breakerErrorPercent,
      volumeThreshold: config.breakerVolumeThreshold,
      resetMs: config.breakerResetMs,
    });
    for (const [event, state] of [
      ['open', 'open'],
      ['halfOpen', 'half_open'],
      ['close', 'closed'],
    ] as const) {
      breaker.on(event, () => {
        logger.warn({ upstream: name, url, breaker: state }, 'upstream: circuit breaker changed');
        events.breaker?.(name, url, state);
      });
    }
    const health = startHealthCheck(pool, {
      intervalMs: config.healthIntervalMs,
      fall: config.healthFall,
      rise: config.healthRise,
      timeoutMs: Math.min(2_000, config.upstreamTimeoutMs),
      onChange: (healthy) => {
        logger.warn({ upstream: name, url, healthy }, 'upstream: instance health changed');
        events.health?.(name, url, healthy);
      },
    });
    return { pool, breaker, health };
  });
  let next = 0;
  let aborted = false;
  let closed: Promise<void> | undefined;

  /**
   * Round-robin over the healthy instances with a closed (or half-open) breaker, then any usable
   * (one not known to be a standby first).
   */
  function choose(avoid: ReadonlySet<Instance>): Instance | undefined {
    let fallback: Instance | undefined;
    let standby: Instance | undefined;
    for (let i = 0; i < instances.length; i++) {
      const instance = instances[(next + i) % instances.length]!;
      if (avoid.has(instance) || instance.breaker.isOpen()) continue;
      if (instance.health.healthy()) {
        next = (next + i + 1) % instances.length;
        return instance;
      }
      const role = instance.health.role();
      if (role !== undefined && NOT_LEADER_ROLES.has(role)) standby ??= instance;
      else fallback ??= instance;
    }
    return fallback ?? standby;
  }

  const retryAfterSec = Math.max(1, Math.ceil(config.breakerResetMs / 1000));
  const backoff = (retry: number): number =>
    Math.random() * Math.min(MAX_BACKOFF_MS, config.retryBaseMs * 2 ** (retry - 1));

  async function attemptLoop<T>(
    options: CallOptions,
    once: (instance: Instance, attempt: Attempt) => Promise<T>,
  ) {
    const maxSends = options.retry ? config.retryAttempts : 1;
    const avoid = new Set<Instance>();
    let sends = 0;
    let tries = 0;
    let lastError: unknown;
    /** set once an instance answered that it does not lead: until then, wait for one that does */
    let leaderDeadline: number | undefined;
    let pause = LEADER_POLL_MS;
    for (;;) {
      // shutting down: no new attempt
      if (aborted || closed)
        throw new UpstreamUnavailable(name, sends > 0 && !options.retry, retryAfterSec, lastError);
      let instance = choose(avoid);
      if (!instance && leaderDeadline !== undefined && Date.now() < leaderDeadline) {
        // every instance failed or does not lead: a takeover is under way. Probe them all, then
        // try them all again
        await Promise.all([Promise.all(instances.map((i) => i.health.check())), sleep(pause)]);
        pause = Math.min(LEADER_POLL_MAX_MS, pause * 2);
        avoid.clear();
        tries = 0;
        continue;
      }
      instance ??= sends > 0 ? choose(new Set()) : undefined;
      if (!instance || ++tries > instances.length + maxSends) {
        throw new UpstreamUnavailable(name, sends > 0 && !options.retry, retryAfterSec, lastError);
      }
      const chosen = instance;
      const attempt: Attempt = { requestId: options.requestId };
      try {
        const result = await chosen.breaker.fire(() => once(chosen, attempt));
        events.attempt?.(name, chosen.pool.url, 'answered');
        return result;
      } catch (err) {
        if (!isBreakerOpenError(err) && attempt.failure === undefined && (attempt.status ?? 0) < 500) {
          events.attempt?.(name, chosen.pool.url, 'answered');
          throw err;
        }
        if (attempt.failure?.code === ABORTED)
          throw new UpstreamUnavailable(name, !options.retry, retryAfterSec, err);
        lastError = err;
        avoid.add(chosen);
        if (notLeaderAnswer(attempt)) {
          // it executed nothing: any request may go on; look for the leader now
          events.attempt?.(name, chosen.pool.url, 'not_leader');
          chosen.health.notLeader(attempt.role!);
          for (const i of instances) if (i !== chosen) i.health.kick();
          leaderDeadline ??= Date.now() + config.leaderWaitMs;
          continue;
        }
        if (!isBreakerOpenError(err)) events.attempt?.(name, chosen.pool.url, 'failed');
        // a leader that fails may be dying: its standby is about to take over, so look now
        if (roleHeader !== undefined) for (const i of instances) i.health.kick();
        // nothing reached the instance: another one may take it, whatever the request
        if (isBreakerOpenError(err) || nothingSent(attempt)) continue;
        sends++;
        if (sends >= maxSends) {
          if (attempt.failure) throw new UpstreamUnavailable(name, !options.retry, 1, err);
          throw err; // the service's own 5xx answer
        }
        events.retry?.(name);
        logger.warn(
          {
            upstream: name,
            url: chosen.pool.url,
            reqId: options.requestId,
            err: attempt.failure ?? attempt.status,
          },
          'upstream: retrying call',
        );
        await sleep(backoff(sends));
      }
    }
  }

  const timeout = config.upstreamTimeoutMs;
  /** the caller's error, not the instance's: uncounted by the breaker, never retried */
  const unsendable = (attempt: Attempt): UpstreamRequestInvalid | undefined =>
    attempt.unsendable &&
    (asClientError(new UpstreamRequestInvalid(name, attempt.unsendable)) as UpstreamRequestInvalid);

  return {
    name,
    call: (options, run) =>
      attemptLoop(options, async (instance, attempt) => {
        try {
          return await run(instance.pool.url, instance.pool.fetchFor(attempt, timeout));
        } catch (err) {
          // whatever the typed client made of it (the orders client reports "unreachable")
          const invalid = unsendable(attempt);
          if (invalid) throw invalid;
          // the typed client turned an answer into an error: a 4xx is the caller's, not the
          // instance's, and neither is a standby's "not the leader"
          throw (attempt.failure === undefined && (attempt.status ?? 0) < 500) || notLeaderAnswer(attempt)
            ? asClientError(err)
            : err;
        }
      }),
    send: (options, request) =>
      attemptLoop(options, async (instance, attempt) => {
        const res = await instance.pool.send(request, attempt, timeout).catch((err: unknown) => {
          throw unsendable(attempt) ?? err;
        });
        if (res.status >= 500) {
          const err = Object.assign(new Error(`${name} answered ${res.status}`), { response: res });
          throw notLeaderAnswer(attempt) ? asClientError(err) : err;
        }
        return res;
      }).catch((err: unknown) => {
        // a 5xx answer that is not retried any more goes back to the caller as it is
        const response = (err as { response?: RawResponse }).response;
        if (response) return response;
        throw err;
      }),
    pick: () => choose(new Set())?.pool.url,
    each: (request) =>
      Promise.all(
        instances.map(async ({ pool }): Promise<InstanceAnswer> => {
          const attempt: Attempt = { requestId: 'status' };
          try {
            return { url: pool.url, response: await pool.send(request, attempt, Math.min(2_000, timeout)) };
          } catch (err) {
            return { url: pool.url, error: attempt.failure?.code ?? (err as Error).message };
          }
        }),
      ),
    instances: () =>
      instances.map((i) => ({
        url: i.pool.url,
        healthy: i.health.healthy(),
        breaker: i.breaker.state(),
        exhausted: i.pool.exhausted(),
        ...(i.health.role() !== undefined && { role: i.health.role() }),
      })),
    checkHealth: async () => {
      await Promise.all(instances.map((i) => i.health.check()));
    },
    close: async () => {
      closed ??= (async () => {
        for (const i of instances) i.health.stop();
        // the calls in flight still go through their breakers: shut them once those are done
        await Promise.all(instances.map((i) => i.pool.close()));
        for (const i of instances) i.breaker.shutdown();
      })();
      await closed;
    },
    abort: () => {
      aborted = true;
      for (const i of instances) {
        i.health.stop();
        i.pool.abort();
      }
    },
  };
}

/**
 * The open-loop load generator: one step of a sweep (one fixed arrival rate), run in a worker
 * thread so that its timer loop has an event loop of its own, not the bench's nor the server's.
 *
 * Request i is sent at t0 + i / rate whatever the earlier requests are doing (there is no
 * waiting for a reply before the next send), over a pool of keep-alive connections (undici);
 * when every connection is busy the request queues in the pool, and that wait counts. Latency
 * runs from the scheduled send time to the end of the reply and goes into an HdrHistogram
 * (microseconds, 3 significant digits), as wrk2 does. The first `warmupSeconds` are sent but not
 * recorded. After the last send the generator waits up to `drainSeconds` for the replies still
 * out; those that never come count as errors, with their latency so far.
 *
 * One thread of JavaScript tops out at some thousands of requests/s; `threads` splits one schedule
 * over several (thread k sends the requests i ≡ k mod threads, at the same scheduled times) and
 * merges their histograms.
 *
 * With `groups`, a request names the group of instances it is for (one orders shard: its leader and
 * standbys) and goes to the one that answered last. A refused connection, or a 503 carrying the
 * group's not-leader header, executed nothing: the request is sent again to the group's next
 * instance (after 10 ms, doubling up to 250 ms), until it gets another answer or the drain ends; its latency still runs
 * from its scheduled time. A connection cut mid-request leaves the outcome unknown: an error, not
 * resent, unless the request is marked `idempotent` (it carries a client order id), when it is
 * sent again in the same way.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';
import type { StepResult } from './knee.ts';
import type { WorkloadModule } from './request.ts';
import { dueBy, requestsIn, scheduledAtMs } from './schedule.ts';

export interface StepOptions {
  /** origin of the system under test, e.g. http://127.0.0.1:8080 */
  url: string;
  rate: number;
  warmupSeconds: number;
  seconds: number;
  /** file URL of the workload module (request.ts's WorkloadModule) */
  workload: string;
  /** plain data handed to the workload's createRequests */
  context: unknown;
  /** keep-alive connections to the server (default 256) */
  connections?: number;
  /** how long to wait for outstanding replies after the last send (default 10 s) */
  drainSeconds?: number;
  /** generator threads sharing the schedule (default 1); the connections are split among them */
  threads?: number;
  /**
   * several origins of one system (e.g. two gateways): thread k sends to urls[k % urls.length]
   * (`url` is then ignored); give at least as many threads as origins
   */
  urls?: string[];
  /** return every measured 2xx as [request index, scheduled send time, reply time], ms since the epoch (failover runs) */
  recordAcks?: boolean;
  /** with recordAcks: each ack also carries the reply's body (e.g. the id the server gave) */
  ackBodies?: boolean;
  /** instances by group, for workloads whose requests name a `group` (see above) */
  groups?: InstanceGroups;
}

export interface InstanceGroups {
  /** groups[g]: the base URLs of group g's instances, the first tried first */
  urls: string[][];
  /** a 503 with this header is a not-leader answer (nothing executed): try the group's next instance */
  notLeaderHeader: string;
}

/** [request index, scheduled send time, reply time (ms since the epoch), reply body when asked for] */
export type Ack = [number, number, number, string?];

/** A step's result, with the acknowledgements when `recordAcks` asked for them. */
export interface StepRun extends StepResult {
  acks?: Ack[];
  /** sends again after a refused connection or a not-leader answer (groups only) */
  resent: number;
}

/** What one generator thread sends back. */
interface PartResult {
  /** HdrHistogram, compressed base64 */
  histogram: string;
  ok: number;
  errors: number;
  overload: number;
  rejected: number;
  sent: number;
  maxSendLagMs: number;
  samples: string[];
  /** from the first measured send's scheduled time to the last measured reply, ms */
  spanMs: number;
  acks?: Ack[];
  resent: number;
}

interface PartOptions extends StepOptions {
  /** scheduled time of request 0, ms since the epoch (threads have different performance clocks) */
  t0EpochMs: number;
  part: number;
  parts: number;
}

/** Runs one step in fresh worker threads and returns what they measured together. */
export async function runStep(options: StepOptions): Promise<StepRun> {
  const parts = Math.max(1, Math.floor(options.threads ?? 1));
  const connections = Math.max(1, Math.ceil((options.connections ?? 256) / parts));
  // far enough ahead for the threads to load their workload modules
  const t0EpochMs = Date.now() + 500 + 100 * parts;
  const results = await Promise.all(
    Array.from({ length: parts }, (_, part) =>
      runPart({
        ...options,
        url: options.urls?.length ? options.urls[part % options.urls.length]! : options.url,
        connections,
        t0EpochMs,
        part,
        parts,
      }),
    ),
  );
  const histogram = hdr.build(HISTOGRAM);
  for (const r of results) histogram.add(hdr.decodeFromCompressedBase64(r.histogram));
  const sum = (pick: (r: PartResult) => number) => results.reduce((acc, r) => acc + pick(r), 0);
  const ok = sum((r) => r.ok);
  const spanMs = Math.max(...results.map((r) => r.spanMs));
  const ms = (q: number) => histogram.getValueAtPercentile(q) / 1000;
  return {
    offered: options.rate,
    // the measured requests' 2xx over the time they took to be sent and answered: a system that
    // falls behind stretches that time, so achieved stays ≤ offered and shows what it kept up with
    achieved: ok / Math.max(options.seconds, spanMs / 1000),
    p50: ms(50),
    p99: ms(99),
    p999: ms(99.9),
    max: histogram.maxValue / 1000,
    errors: sum((r) => r.errors),
    overload: sum((r) => r.overload),
    rejected: sum((r) => r.rejected),
    sent: sum((r) => r.sent),
    ok,
    maxSendLagMs: Math.max(...results.map((r) => r.maxSendLagMs)),
    samples: [...new Set(results.flatMap((r) => r.samples))].slice(0, 5),
    resent: sum((r) => r.resent),
    ...(options.recordAcks && { acks: results.flatMap((r) => r.acks ?? []) }),
  };
}

const HISTOGRAM = {
  lowestDiscernibleValue: 1,
  highestTrackableValue: 3_600_000_000,
  numberOfSignificantValueDigits: 3,
} as const;

function runPart(options: PartOptions): Promise<PartResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./generator-thread.mjs', import.meta.url), { workerData: options });
    let result: PartResult | undefined;
    worker.once('message', (m: PartResult) => {
      result = m;
      // lingering keep-alive sockets must not hold the step open
      worker.terminate().catch(() => {});
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`load generator exited with code ${code} and no result`));
    });
  });
}

async function generate(options: PartOptions): Promise<PartResult> {
  const { rate, warmupSeconds, seconds, part, parts } = options;
  const mod = (await import(options.workload)) as WorkloadModule;
  const next = mod.createRequests(options.context);
  const drainMs = (options.drainSeconds ?? 10) * 1000;
  const pools = new Map<string, Pool>();
  const poolOf = (url: string): Pool => {
    let pool = pools.get(url);
    if (pool === undefined) {
      pool = new Pool(url, {
        connections: options.connections ?? 256,
        pipelining: 1,
        keepAliveTimeout: 60_000,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      pools.set(url, pool);
    }
    return pool;
  };
  const groups = options.groups;
  // per group: the instance that answered last (this thread's view)
  const current = groups?.urls.map(() => 0) ?? [];
  const histogram = hdr.build(HISTOGRAM);

  const warmCount = warmupSeconds > 0 ? requestsIn(warmupSeconds, rate) : 0;
  const total = warmCount + requestsIn(seconds, rate);
  const t0 = options.t0EpochMs - performance.timeOrigin;
  const windowStart = scheduledAtMs(t0, warmCount, rate);
  const counts = { sent: 0, ok: 0, errors: 0, overload: 0, rejected: 0 };
  let lastMeasuredReplyAt = windowStart;
  const acks: Ack[] | undefined = options.recordAcks ? [] : undefined;
  let resent = 0;
  const samples = new Set<string>();
  const outstanding = new Map<number, number>(); // measured request index -> scheduled time
  let inflight = 0;
  let maxSendLagMs = 0;
  let finished = false;
  let allSent = false;
  let drained: () => void = () => {};

  const sample = (what: string) => {
    if (samples.size < 5) samples.add(what.slice(0, 300));
  };
  const record = (scheduled: number, at: number) => {
    histogram.recordValue(Math.max(1, Math.round((at - scheduled) * 1000)));
  };

  function send(i: number): void {
    const scheduled = scheduledAtMs(t0, i, rate);
    const measured = i >= warmCount;
    const req = next(i);
    if (measured) {
      counts.sent++;
      outstanding.set(i, scheduled);
      maxSendLagMs = Math.max(maxSendLagMs, performance.now() - scheduled);
    }
    inflight++;
    const done = (status: number, detail?: string, body?: string) => {
      if (finished) return;
      const at = performance.now();
      inflight--;
      const ok = status >= 200 && status < 300;
      if (measured) {
        outstanding.delete(i);
        lastMeasuredReplyAt = Math.max(lastMeasuredReplyAt, at);
        record(scheduled, at);
        if (ok) {
          counts.ok++;
          const ack: Ack = [i, performance.timeOrigin + scheduled, performance.timeOrigin + at];
          if (body !== undefined) ack.push(body);
          acks?.push(ack);
        } else if (status === 429 || status === 503) counts.overload++;
        else if (status === 0 || status >= 500) counts.errors++;
        else counts.rejected++;
        if (!ok && detail !== undefined) sample(detail);
      }
      if (inflight === 0 && allSent) drained();
    };
    const group = req.group;
    let tries = 0;
    const attempt = (): void => {
      const instance = group === undefined ? undefined : current[group]!;
      const origin = group === undefined ? options.url : groups!.urls[group]![instance!]!;
      // not executed there: the group's next instance, unless the drain is over
      const again = (): boolean => {
        if (group === undefined || finished) return false;
        const urls = groups!.urls[group]!;
        if (current[group] === instance) current[group] = (instance! + 1) % urls.length;
        resent++;
        tries++;
        // backing off: while a standby takes over, every request for its shard waits here
        setTimeout(attempt, Math.min(250, 10 * 2 ** (tries - 1)));
        return true;
      };
      poolOf(origin)
        .request({ method: req.method, path: req.path, headers: req.headers, body: req.body })
        .then(async (res) => {
          const ok = res.statusCode >= 200 && res.statusCode < 300;
          if (res.statusCode === 503 && groups && res.headers[groups.notLeaderHeader] !== undefined) {
            await res.body.dump();
            if (!again()) done(503, `${req.method} ${req.path} -> 503 not the leader`);
            return;
          }
          if (ok && options.ackBodies && measured) done(res.statusCode, undefined, await res.body.text());
          else if (ok || samples.size >= 5) {
            await res.body.dump();
            done(res.statusCode);
          } else {
            const text = await res.body.text();
            done(res.statusCode, `${req.method} ${req.path} -> ${res.statusCode} ${text}`);
          }
        })
        .catch((err: Error & { code?: string }) => {
          if (err.code === 'ECONNREFUSED' && again()) return;
          // cut mid-request: unknown outcome, safe to send again only when idempotent
          if (req.idempotent === true && again()) return;
          done(0, `${req.method} ${req.path} -> ${err.name}: ${err.message}`);
        });
    };
    attempt();
  }

  await new Promise<void>((resolve) => {
    let i = part;
    const tick = () => {
      const due = Math.min(total, dueBy(performance.now() - t0, rate));
      for (; i < due; i += parts) send(i);
      if (i < total) setTimeout(tick, Math.max(0, scheduledAtMs(t0, i, rate) - performance.now() - 0.5));
      else {
        allSent = true;
        resolve();
      }
    };
    setTimeout(tick, Math.max(0, t0 - performance.now()));
  });

  if (inflight > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, drainMs);
      drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  finished = true;
  const at = performance.now();
  for (const scheduled of outstanding.values()) {
    record(scheduled, at);
    counts.errors++;
  }
  if (outstanding.size > 0)
    sample(`${outstanding.size} requests unanswered ${drainMs / 1000} s after the last send`);
  for (const pool of pools.values()) pool.destroy().catch(() => {});

  return {
    histogram: hdr.encodeIntoCompressedBase64(histogram),
    ...counts,
    maxSendLagMs,
    samples: [...samples],
    spanMs: lastMeasuredReplyAt - windowStart,
    resent,
    ...(acks && { acks }),
  };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  generate(workerData as PartOptions).then(
    (result) => port.postMessage(result),
    (err: unknown) => {
      throw err;
    },
  );
}

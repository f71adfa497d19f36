/** The open-loop load generator of the benches (bench/lib/load): schedule, knee, order mix, counting. */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { runStep } from '../../bench/lib/load/generator.ts';
import { kneeOf, type StepResult, stopReason } from '../../bench/lib/load/knee.ts';
import { dollars, orderAt } from '../../bench/lib/load/order-mix.ts';
import { dueBy, requestsIn, scheduledAtMs } from '../../bench/lib/load/schedule.ts';
import { type Curve, curveJson, sweepSettingsFromEnv } from '../../bench/lib/load/sweep.ts';

function step(over: Partial<StepResult>): StepResult {
  return {
    offered: 100,
    achieved: 100,
    p50: 1,
    p99: 5,
    p999: 8,
    max: 9,
    errors: 0,
    overload: 0,
    rejected: 0,
    sent: 100,
    ok: 100,
    maxSendLagMs: 0,
    samples: [],
    ...over,
  };
}

describe('open-loop schedule', () => {
  it('sends request i at t0 + i / rate, independent of any reply', () => {
    expect(scheduledAtMs(1_000, 0, 200)).toBe(1_000);
    expect(scheduledAtMs(1_000, 1, 200)).toBe(1_005);
    expect(scheduledAtMs(1_000, 400, 200)).toBe(3_000);
  });

  it('counts as due every request whose scheduled time has come', () => {
    expect(dueBy(-1, 1_000)).toBe(0);
    expect(dueBy(0, 1_000)).toBe(1);
    expect(dueBy(0.999, 1_000)).toBe(1);
    expect(dueBy(1, 1_000)).toBe(2);
    expect(dueBy(1_000, 100)).toBe(101);
    // a generator that stalled for 50 ms owes every request of those 50 ms at once
    expect(dueBy(50, 2_000)).toBe(101);
  });

  it('sizes a step as rate × seconds, at least one request', () => {
    expect(requestsIn(5, 40_000)).toBe(200_000);
    expect(requestsIn(0.001, 100)).toBe(1);
  });
});

describe('knee and stopping rule', () => {
  it('is the highest achieved rate with p99 within the limit and no errors or overload', () => {
    const steps = [
      step({ offered: 100, achieved: 100, p99: 4 }),
      step({ offered: 1_000, achieved: 998, p99: 31 }),
      step({ offered: 2_000, achieved: 1_900, p99: 49.5, overload: 3 }),
      step({ offered: 5_000, achieved: 2_100, p99: 480 }),
    ];
    expect(kneeOf(steps)).toEqual({ knee: 998, p99msAtKnee: 31 });
  });

  it('has no knee when no step qualifies', () => {
    expect(kneeOf([step({ p99: 75 }), step({ errors: 1 })])).toEqual({ knee: 0, p99msAtKnee: null });
    expect(kneeOf([])).toEqual({ knee: 0, p99msAtKnee: null });
  });

  it('stops a sweep on p99 past the limit, on errors and on overload answers, not on a good step', () => {
    expect(stopReason(step({ p99: 50 }))).toBeNull();
    expect(stopReason(step({ p99: 50.1 }))).toMatch(/p99 50.1 ms > 50 ms/);
    expect(stopReason(step({ errors: 2 }))).toMatch(/2 errors/);
    expect(stopReason(step({ overload: 7 }))).toMatch(/7 overload/);
    expect(stopReason(step({ p99: 20 }), 10)).toMatch(/> 10 ms/);
  });

  it('reports the curve under the field names the issue fixes', () => {
    const curve: Curve = {
      ...kneeOf([step({})]),
      steps: [step({ achieved: 99.6, p50: 1.234 })],
      stoppedBecause: null,
    };
    expect(curveJson(curve)).toEqual({
      knee: 100,
      p99msAtKnee: 5,
      curve: [{ offered: 100, achieved: 100, p50: 1.23, p99: 5, p999: 8, errors: 0 }],
    });
  });
});

describe('sweep settings', () => {
  it('reads the rates and step length from the environment and names a bad variable', () => {
    const s = sweepSettingsFromEnv({ BENCH_RATES: '100, 300', BENCH_STEP_SECONDS: '3' });
    expect(s.rates).toEqual([100, 300]);
    expect(s.stepSeconds).toBe(3);
    expect(s.stopP99Ms).toBe(50);
    expect(s.threads).toBe(1);
    expect(sweepSettingsFromEnv({ BENCH_GENERATORS: '3' }).threads).toBe(3);
    expect(sweepSettingsFromEnv({ BENCH_STOP_P99_MS: '500' })).toMatchObject({
      stopP99Ms: 500,
      p99LimitMs: 50,
    });
    expect(sweepSettingsFromEnv({}).rates.at(-1)).toBe(40_000);
    expect(() => sweepSettingsFromEnv({ BENCH_RATES: '100,fast' })).toThrow(/BENCH_RATES/);
    expect(() => sweepSettingsFromEnv({ BENCH_STEP_SECONDS: '-1' })).toThrow(/BENCH_STEP_SECONDS/);
  });
});

describe('order mix', () => {
  it('sells one order in three at a crossing price from the home symbol, buys elsewhere otherwise', () => {
    const orders = Array.from({ length: 3_000 }, (_, i) => orderAt(i, 1_000, 20));
    const sells = orders.filter((o) => o.side === 'sell');
    expect(sells).toHaveLength(1_000);
    for (const o of sells) {
      expect(o).toMatchObject({ tif: 'ioc', priceCents: 900, symbol: o.account % 20 });
    }
    for (const o of orders.filter((x) => x.side === 'buy')) {
      expect(o.tif).toBe('gtc');
      expect(o.symbol).not.toBe(o.account % 20);
      expect(o.priceCents).toBeGreaterThan(900);
      expect(o.priceCents).toBeLessThan(1_000);
    }
    expect(new Set(orders.map((o) => o.symbol)).size).toBe(20);
    expect(new Set(orders.map((o) => o.account)).size).toBeGreaterThan(900);
  });

  it('writes cents as the public API decimal', () => {
    expect(dollars(957)).toBe('9.57');
    expect(dollars(900)).toBe('9.00');
    expect(dollars(5)).toBe('0.05');
  });
});

describe('load generator step', () => {
  it.each([1, 2])(
    'sends rate × seconds requests and counts replies, overload answers, rejections and errors apart (%i threads)',
    async (threads) => {
      const app = Fastify();
      app.get<{ Params: { code: string } }>('/status/:code', async (req, reply) => {
        if (req.params.code === 'drop') {
          // a transport error: the connection closes with no answer
          reply.hijack();
          req.raw.socket.destroy();
          return;
        }
        return reply.code(Number(req.params.code)).send({ code: req.params.code });
      });
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      try {
        const result = await runStep({
          url,
          rate: 200,
          warmupSeconds: 0.1,
          seconds: 0.5,
          workload: new URL('./status-workload.ts', import.meta.url).href,
          // 10 kinds of answer, so each occurs 10 times among 100 measured requests
          context: { statuses: ['200', '201', '200', '429', '503', '422', '404', '500', 'drop', '200'] },
          connections: 8,
          drainSeconds: 5,
          threads,
        });
        expect(result.sent).toBe(100);
        expect(result.ok).toBe(40);
        expect(result.overload).toBe(20);
        expect(result.rejected).toBe(20);
        expect(result.errors).toBe(20);
        expect(result.offered).toBe(200);
        expect(result.p50).toBeGreaterThan(0);
        expect(result.p999).toBeGreaterThanOrEqual(result.p99);
        expect(result.samples.length).toBeGreaterThan(0);
      } finally {
        await app.close();
      }
    },
  );

  it('splits the schedule over several origins and returns each acknowledgement with its time', async () => {
    const hits: number[] = [0, 0];
    const servers = [Fastify(), Fastify()];
    for (const [k, app] of servers.entries())
      app.get<{ Params: { code: string } }>('/status/:code', async (req, reply) => {
        hits[k]!++;
        return reply.code(Number(req.params.code)).send({});
      });
    const urls = await Promise.all(servers.map((app) => app.listen({ port: 0, host: '127.0.0.1' })));
    try {
      const before = Date.now();
      const result = await runStep({
        url: 'http://127.0.0.1:9', // ignored: urls wins
        urls,
        rate: 200,
        warmupSeconds: 0,
        seconds: 0.5,
        workload: new URL('./status-workload.ts', import.meta.url).href,
        context: { statuses: ['200', '503'] },
        connections: 8,
        drainSeconds: 5,
        threads: 2,
        recordAcks: true,
      });
      expect(result.sent).toBe(100);
      expect(hits).toEqual([50, 50]);
      expect(result.ok).toBe(50);
      // the acknowledged requests are exactly the even ones (status 200), each answered after the call
      const acks = result.acks!;
      expect(acks.map(([i]) => i).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, k) => 2 * k));
      for (const [, scheduled, at] of acks) {
        expect(scheduled).toBeGreaterThan(before);
        expect(at).toBeGreaterThanOrEqual(scheduled);
      }
    } finally {
      await Promise.all(servers.map((app) => app.close()));
    }
  });
});

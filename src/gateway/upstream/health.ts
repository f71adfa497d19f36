/**
 * Active health checks: GET <instance>/healthz every interval. `fall` consecutive failures take
 * the instance out of the rotation, `rise` consecutive successes put it back.
 */
import type { InstancePool } from './http.ts';

export interface HealthOptions {
  intervalMs: number;
  fall: number;
  rise: number;
  timeoutMs: number;
  onChange?: (healthy: boolean) => void;
}

export interface HealthCheck {
  healthy(): boolean;
  /** one check now (tests; also the first one at start) */
  check(): Promise<boolean>;
  stop(): void;
}

export function startHealthCheck(pool: InstancePool, options: HealthOptions): HealthCheck {
  let healthy = true; // optimistic until proven otherwise: a start must not wait for a check
  let passes = 0;
  let fails = 0;
  let running: Promise<boolean> | undefined;

  const probe = async (): Promise<boolean> => {
    try {
      const res = await pool.send(
        { method: 'GET', path: '/healthz', headers: { accept: 'application/json' } },
        { requestId: 'health-check' },
        options.timeoutMs,
      );
      return res.status === 200;
    } catch {
      return false;
    }
  };

  const check = (): Promise<boolean> => {
    running ??= probe().then((ok) => {
      running = undefined;
      if (ok) {
        fails = 0;
        passes++;
        if (!healthy && passes >= options.rise) {
          healthy = true;
          options.onChange?.(true);
        }
      } else {
        passes = 0;
        fails++;
        if (healthy && fails >= options.fall) {
          healthy = false;
          options.onChange?.(false);
        }
      }
      return healthy;
    });
    return running;
  };

  const timer = setInterval(() => void check(), options.intervalMs);
  timer.unref();
  void check();
  return { healthy: () => healthy, check, stop: () => clearInterval(timer) };
}

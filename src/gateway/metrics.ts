/**
 * Prometheus metrics (prom-client), one registry per gateway so that several gateways in one
 * process (tests) never share counters. Route labels are route patterns, never raw URLs, so the
 * label sets stay bounded.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BreakerState } from '../platform/http/upstream/breaker.ts';
import type { WsRelayStats } from './ws-proxy.ts';

export interface GatewayMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route'>;
  orders: Counter<'outcome'>;
  trades: Counter;
  rateLimited: Counter<'class'>;
  breaker: Gauge<'upstream' | 'instance'>;
  healthy: Gauge<'upstream' | 'instance'>;
  retries: Counter<'upstream'>;
  attempts: Counter<'upstream' | 'instance' | 'outcome'>;
  cache: Counter<'result'>;
}

export const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export function createMetrics(): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bourse_gateway_' });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'bourse_gateway_requests_total',
      help: 'Requests answered, by route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    duration: new Histogram({
      name: 'bourse_gateway_request_duration_seconds',
      help: 'Time to answer, by route pattern',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    orders: new Counter({
      name: 'bourse_gateway_orders_total',
      help: 'Order submissions through the gateway: accepted, replayed (same client_order_id) or refused',
      labelNames: ['outcome'],
      registers,
    }),
    trades: new Counter({
      name: 'bourse_gateway_trades_total',
      help: 'Trades seen on the bus (md.trade.*)',
      registers,
    }),
    rateLimited: new Counter({
      name: 'bourse_gateway_rate_limited_total',
      help: 'Requests refused with 429, by route class',
      labelNames: ['class'],
      registers,
    }),
    breaker: new Gauge({
      name: 'bourse_gateway_breaker_state',
      help: 'Circuit breaker per upstream instance: 0 closed, 1 half-open, 2 open',
      labelNames: ['upstream', 'instance'],
      registers,
    }),
    healthy: new Gauge({
      name: 'bourse_gateway_upstream_healthy',
      help: 'Active health check per upstream instance: 1 in the rotation, 0 out',
      labelNames: ['upstream', 'instance'],
      registers,
    }),
    retries: new Counter({
      name: 'bourse_gateway_upstream_retries_total',
      help: 'Upstream calls sent again after a failure',
      labelNames: ['upstream'],
      registers,
    }),
    attempts: new Counter({
      name: 'bourse_gateway_upstream_attempts_total',
      help: 'Attempts sent to each upstream instance, by outcome (answered, not_leader: a standby or fenced instance, failed)',
      labelNames: ['upstream', 'instance', 'outcome'],
      registers,
    }),
    cache: new Counter({
      name: 'bourse_gateway_cache_total',
      help: 'Hot-read cache lookups: hit or miss',
      labelNames: ['result'],
      registers,
    }),
  };
}

/** The WebSocket relay's own counters (ws-proxy.ts), read when /metrics is scraped. */
export function watchWsRelay(metrics: GatewayMetrics, stats: () => WsRelayStats): void {
  const registers = [metrics.registry];
  new Gauge({
    name: 'bourse_gateway_ws_relay_open',
    help: 'WebSocket connections being relayed to a service',
    registers,
    collect() {
      this.set(stats().open);
    },
  });
  new Gauge({
    name: 'bourse_gateway_ws_relay_stalled_closed',
    help: 'Relayed WebSockets cut off because the client stopped draining (since start)',
    registers,
    collect() {
      this.set(stats().stalledClosed);
    },
  });
  new Gauge({
    name: 'bourse_gateway_ws_relay_max_buffered_bytes',
    help: 'Most bytes ever waiting in the relay for one client (bounded by the high-water mark plus one read)',
    registers,
    collect() {
      this.set(stats().maxBufferedBytes);
    },
  });
}

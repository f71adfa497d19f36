/**
 * The typed client of the reporting service, for the gateway and other processes. Reports are
 * asked for on behalf of a caller: the identity (and the account it acts on) travels in the
 * forwarded-identity headers with the internal token, exactly as the gateway sends it. JSON
 * reports come back parsed; CSV and PDF as the raw Response, to be streamed on.
 */
import { type ForwardedIdentity, identityHeaders } from '../../platform/http/forwarded-identity.ts';
import type { brokerageJson, clientJson } from './brokerage.ts';
import type { marketReport } from './market.ts';
import type { performanceJson } from './performance.ts';
import type { positionsJson } from './positions.ts';
import type { Problem } from './problems.ts';
import type { headJson, MovementJson, ShareTransferJson, TradeJson } from './statement.ts';

export type { Problem } from './problems.ts';

export type StatementReport = ReturnType<typeof headJson> & {
  cash_movements: MovementJson[];
  trades: TradeJson[];
  share_transfers: ShareTransferJson[];
};
export type PositionsReport = ReturnType<typeof positionsJson>;
export type PerformanceReport = ReturnType<typeof performanceJson>;
export type BrokerageReport = ReturnType<typeof brokerageJson>;
export type BrokerageClientReport = ReturnType<typeof clientJson> & { from: string; to: string };
export type MarketReport = Awaited<ReturnType<typeof marketReport>>;

export interface PeriodParams {
  from?: string;
  to?: string;
}

export type ReportPath =
  | '/v1/reports/statement'
  | '/v1/reports/positions'
  | '/v1/reports/performance'
  | '/v1/reports/brokerage'
  | `/v1/reports/brokerage/clients/${string}`
  | `/v1/reports/market/${string}`;

export interface ReportingClient {
  statement(as: ForwardedIdentity, q?: PeriodParams): Promise<StatementReport>;
  positions(as: ForwardedIdentity): Promise<PositionsReport>;
  performance(
    as: ForwardedIdentity,
    q?: PeriodParams & { benchmark?: string; risk_free?: number },
  ): Promise<PerformanceReport>;
  brokerage(as: ForwardedIdentity, q?: PeriodParams & { brokerage_id?: string }): Promise<BrokerageReport>;
  brokerageClient(
    as: ForwardedIdentity,
    userId: string,
    q?: PeriodParams & { brokerage_id?: string },
  ): Promise<BrokerageClientReport>;
  market(
    as: ForwardedIdentity,
    symbol: string,
    q?: PeriodParams & { timeframe?: string },
  ): Promise<MarketReport>;
  /** A report as CSV or PDF: the Response, its body not yet read (throws ReportingApiError on 4xx/5xx). */
  download(
    as: ForwardedIdentity,
    path: ReportPath,
    format: 'csv' | 'pdf',
    q?: Record<string, string | number>,
  ): Promise<Response>;
}

export class ReportingApiError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'ReportingApiError';
    this.problem = problem;
  }
}

export interface HttpReportingClientOptions {
  /** where the reporting service listens, e.g. http://127.0.0.1:3004 */
  baseUrl: string;
  internalToken: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export function httpReportingClient(opts: HttpReportingClientOptions): ReportingClient {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 60_000;

  async function call(as: ForwardedIdentity, path: string, q: Record<string, unknown>): Promise<Response> {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(q))
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    let res: Response;
    try {
      res = await doFetch(url, {
        headers: identityHeaders(as, opts.internalToken),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new ReportingApiError({
        type: 'https://bourse.dev/problems/unavailable',
        title: 'Service unavailable',
        status: 503,
        detail: `reporting service unreachable: ${(err as Error).message}`,
      });
    }
    if (!res.ok) {
      const text = await res.text();
      let p: Problem;
      try {
        p = JSON.parse(text) as Problem;
      } catch {
        p = {
          type: 'https://bourse.dev/problems/http-error',
          title: 'HTTP error',
          status: res.status,
          detail: text.slice(0, 200),
        };
      }
      throw new ReportingApiError(p);
    }
    return res;
  }

  const json = async <T>(as: ForwardedIdentity, path: string, q: object = {}): Promise<T> =>
    (await (await call(as, path, { ...q })).json()) as T;
  const seg = encodeURIComponent;

  return {
    statement: (as, q) => json(as, '/v1/reports/statement', q),
    positions: (as) => json(as, '/v1/reports/positions'),
    performance: (as, q) => json(as, '/v1/reports/performance', q),
    brokerage: (as, q) => json(as, '/v1/reports/brokerage', q),
    brokerageClient: (as, userId, q) => json(as, `/v1/reports/brokerage/clients/${seg(userId)}`, q),
    market: (as, symbol, q) => json(as, `/v1/reports/market/${seg(symbol)}`, q),
    download: (as, path, format, q = {}) => call(as, path, { ...q, format }),
  };
}

/**
 * The public report routes. The gateway forwards them with the caller's identity in headers,
 * trusted only with the internal token (401 otherwise, before anything else is looked at);
 * `accountId` there is the account the request acts on, already authorised by the gateway.
 */
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../platform/clock.ts';
import type { Queryable } from '../../platform/db/types.ts';
import {
  type ForwardedIdentity,
  type InternalTokens,
  readForwardedIdentity,
} from '../../platform/http/forwarded-identity.ts';
import { ignoreUnknownFields } from '../../platform/http/ignored-fields.ts';
import { strictValidatorCompiler } from '../../platform/http/validator.ts';
import type { UsersClient } from '../users/client.ts';
import {
  BROKERAGE_CSV_HEADER,
  type BrokerageOptions,
  brokerageCsvRows,
  brokerageJson,
  brokeragePdf,
  brokerageReport,
  clientFigures,
  clientJson,
} from './brokerage.ts';
import { type Cell, csvStream } from './csv.ts';
import { MAX_BARS, marketCsvHeader, marketCsvRows, marketJson, marketPdf, marketReport } from './market.ts';
import { type PdfSpec, renderPdf } from './pdf.ts';
import {
  PERFORMANCE_CSV_HEADER,
  performance,
  performanceCsvRows,
  performanceJson,
  performancePdf,
} from './performance.ts';
import { periodOf } from './period.ts';
import { type PortfolioHistoryQuery, portfolioHistory, portfolioHistoryQuery } from './portfolio-history.ts';
import {
  POSITIONS_CSV_HEADER,
  positionLines,
  positionsCsvRows,
  positionsJson,
  positionsPdf,
} from './positions.ts';
import { forbidden, installProblemHandlers, invalidField, notFound, unauthorized } from './problems.ts';
import { TIMEFRAME_SECONDS } from './queries.ts';
import {
  brokerageQuery,
  clientParams,
  type Format,
  marketParams,
  marketQuery,
  type PeriodQuery,
  performanceQuery,
  positionsQuery,
  statementQuery,
} from './schemas.ts';
import {
  STATEMENT_CSV_HEADER,
  statementCsvRows,
  statementHead,
  statementJson,
  statementPdf,
} from './statement.ts';

export interface RoutesDeps {
  db: Queryable;
  users: UsersClient;
  clock: Clock;
  internalToken: InternalTokens;
  brokerage: BrokerageOptions;
}

interface Output {
  json: () => unknown;
  csv: () => { header: readonly string[]; rows: AsyncIterable<readonly Cell[]> | Iterable<readonly Cell[]> };
  pdf: () => PdfSpec | Promise<PdfSpec>;
}

async function* asAsync<T>(rows: AsyncIterable<T> | Iterable<T>): AsyncGenerator<T> {
  yield* rows;
}

async function send(reply: FastifyReply, format: Format, name: string, out: Output): Promise<FastifyReply> {
  reply.header('cache-control', 'private, no-store');
  if (format === 'csv') {
    const { header, rows } = out.csv();
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}.csv"`)
      .send(csvStream(header, asAsync(rows)));
  }
  if (format === 'pdf') {
    const doc = renderPdf(await out.pdf());
    return reply
      .type('application/pdf')
      .header('content-disposition', `attachment; filename="${name}.pdf"`)
      .send(doc as unknown as Readable);
  }
  return reply.type('application/json; charset=utf-8').send(out.json());
}

const identities = new WeakMap<FastifyRequest, ForwardedIdentity>();
const who = (req: FastifyRequest): ForwardedIdentity => identities.get(req)!;

/** The brokerage a broker or admin may report on; investors are refused. */
function brokerageFor(id: ForwardedIdentity, asked: string | undefined): string {
  if (id.role === 'investor') throw forbidden('Brokerage reports are for brokers and admins');
  if (id.role === 'broker') {
    if (!id.brokerageId) throw forbidden('This broker belongs to no brokerage');
    if (asked !== undefined && asked !== id.brokerageId)
      throw forbidden('A broker sees only their own brokerage');
    return id.brokerageId;
  }
  const brokerage = asked ?? id.brokerageId;
  if (!brokerage)
    throw invalidField('querystring', 'brokerage_id', 'is required for an admin outside every brokerage');
  return brokerage;
}

export function reportingRoutes(deps: RoutesDeps) {
  const { db, users, clock } = deps;
  return async (app: FastifyInstance): Promise<void> => {
    app.setValidatorCompiler(strictValidatorCompiler([]));
    // Alpaca's /v2 route ignores (and names) fields it does not use, as Alpaca does
    ignoreUnknownFields(app, (req) => req.url.startsWith('/v2/'));
    installProblemHandlers(app);
    app.addHook('onRequest', async (req) => {
      const id = readForwardedIdentity(req.headers, deps.internalToken);
      if (!id) throw unauthorized();
      identities.set(req, id);
    });

    app.get<{ Querystring: PeriodQuery }>(
      '/v1/reports/statement',
      { schema: { querystring: statementQuery } },
      async (req, reply) => {
        const id = who(req);
        const period = periodOf(req.query, clock.now());
        const head = await statementHead(db, id.accountId, period);
        return send(reply, req.query.format, `statement-${period.from}-${period.to}`, {
          json: () => statementJson(db, head),
          csv: () => ({ header: STATEMENT_CSV_HEADER, rows: statementCsvRows(db, head) }),
          pdf: () => statementPdf(db, head),
        });
      },
    );

    app.get<{ Querystring: { format: Format } }>(
      '/v1/reports/positions',
      { schema: { querystring: positionsQuery } },
      async (req, reply) => {
        const id = who(req);
        const at = new Date(clock.now());
        const lines = await positionLines(db, id.accountId, at);
        return send(reply, req.query.format, 'positions', {
          json: () => positionsJson(id.accountId, at, lines),
          csv: () => ({ header: POSITIONS_CSV_HEADER, rows: positionsCsvRows(lines) }),
          pdf: () => positionsPdf(id.accountId, at, lines),
        });
      },
    );

    app.get<{ Querystring: PortfolioHistoryQuery }>(
      '/v2/account/portfolio/history',
      { schema: { querystring: portfolioHistoryQuery } },
      async (req) => portfolioHistory(db, who(req).accountId, req.query, clock.now()),
    );

    app.get<{ Querystring: PeriodQuery & { benchmark: string; risk_free: number; include?: string } }>(
      '/v1/reports/performance',
      { schema: { querystring: performanceQuery } },
      async (req, reply) => {
        const id = who(req);
        const period = periodOf(req.query, clock.now(), 365);
        const include = req.query.include?.split(',') ?? [];
        const report = await performance(db, id.accountId, period, {
          benchmark: req.query.benchmark,
          riskFree: req.query.risk_free,
        });
        return send(reply, req.query.format, `performance-${period.from}-${period.to}`, {
          json: () => performanceJson(report),
          csv: () => ({ header: PERFORMANCE_CSV_HEADER, rows: performanceCsvRows(report) }),
          pdf: () => performancePdf(report, include),
        });
      },
    );

    app.get<{ Querystring: PeriodQuery & { brokerage_id?: string } }>(
      '/v1/reports/brokerage',
      { schema: { querystring: brokerageQuery } },
      async (req, reply) => {
        const brokerageId = brokerageFor(who(req), req.query.brokerage_id);
        const period = periodOf(req.query, clock.now());
        const report = await brokerageReport(db, users, brokerageId, period, deps.brokerage);
        return send(reply, req.query.format, `brokerage-${period.from}-${period.to}`, {
          json: () => brokerageJson(report),
          csv: () => ({ header: BROKERAGE_CSV_HEADER, rows: brokerageCsvRows(report) }),
          pdf: () => brokeragePdf(report),
        });
      },
    );

    app.get<{ Querystring: PeriodQuery & { brokerage_id?: string }; Params: { userId: string } }>(
      '/v1/reports/brokerage/clients/:userId',
      { schema: { querystring: brokerageQuery, params: clientParams } },
      async (req, reply) => {
        const id = who(req);
        if (id.role === 'investor') throw forbidden('Brokerage reports are for brokers and admins');
        // a broker sees their own brokerage's clients, an admin anyone's (or the one named)
        const brokerageId =
          id.role === 'broker' ? brokerageFor(id, req.query.brokerage_id) : req.query.brokerage_id;
        const user = await users.getUser(req.params.userId);
        // another brokerage's client is answered exactly like a user that does not exist
        if (user?.role !== 'investor' || (brokerageId !== undefined && user.brokerage_id !== brokerageId)) {
          throw notFound('Client');
        }
        const period = periodOf(req.query, clock.now());
        const figures = await clientFigures(db, user, period, deps.brokerage);
        const report = {
          brokerageId: user.brokerage_id ?? '',
          period,
          clients: [figures],
          largest: figures.positions
            .map((p) => ({ userId: user.id, username: user.username, ...p }))
            .sort((a, b) => b.value - a.value),
          totals: {
            clients: 1,
            trades: figures.trades,
            volume: figures.volume,
            commissions: figures.commissions,
            realised: figures.realised,
            exposure: figures.exposure,
            cash: figures.cash,
          },
          commissionBasis:
            deps.brokerage.commissionBps === null
              ? 'exchange_fees_paid'
              : `${deps.brokerage.commissionBps}_bps_of_volume`,
        };
        return send(reply, req.query.format, `client-${user.id}-${period.from}-${period.to}`, {
          json: () => ({ from: period.from, to: period.to, ...clientJson(figures) }),
          csv: () => ({ header: BROKERAGE_CSV_HEADER, rows: brokerageCsvRows(report) }),
          pdf: () => brokeragePdf(report),
        });
      },
    );

    app.get<{
      Querystring: PeriodQuery & { timeframe: string; include?: string };
      Params: { symbol: string };
    }>(
      '/v1/reports/market/:symbol',
      { schema: { querystring: marketQuery, params: marketParams } },
      async (req, reply) => {
        const period = periodOf(req.query, clock.now());
        const tf = req.query.timeframe;
        if ((period.days * 86_400) / TIMEFRAME_SECONDS[tf]! > MAX_BARS) {
          throw invalidField('querystring', 'timeframe', `gives more than ${MAX_BARS} bars over this period`);
        }
        const report = await marketReport(db, req.params.symbol, tf, period);
        return send(reply, req.query.format, `market-${req.params.symbol}-${period.from}-${period.to}`, {
          json: () => marketJson(report),
          csv: () => ({ header: marketCsvHeader(report), rows: marketCsvRows(report) }),
          pdf: () => marketPdf(report, req.query.include?.split(',') ?? []),
        });
      },
    );
  };
}

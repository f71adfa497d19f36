/**
 * The orders service's internal HTTP API: a Fastify plugin over the handlers (handlers.ts).
 * Integers only (cents, shares, epoch ms); the public gateway speaks decimals and authenticates.
 * `:account` is the acting account: orders of other accounts answer 404, as if absent.
 *
 * Routes, under the prefix (default /internal/orders):
 *
 *   POST   /accounts/:account/orders                            submit        201 | 200 replayed
 *   GET    /accounts/:account/orders?status&symbol&limit&cursor list (newest first)
 *   GET    /accounts/:account/orders/:id                        one order
 *   GET    /accounts/:account/orders/by-client-id/:clientOrderId
 *   DELETE /accounts/:account/orders/:id                        cancel
 *   PATCH  /accounts/:account/orders/:id                        cancel/replace {qty?, price?, stopPrice?}
 *   GET    /accounts/:account/trades?symbol&limit&cursor        executions
 *   GET    /accounts/:account/balance
 *   GET    /accounts/:account/positions
 *   GET    /accounts/:account/cash-movements?limit&cursor
 *   POST   /accounts/:account/deposits          {amount}        Idempotency-Key header optional
 *   POST   /accounts/:account/withdrawals       {amount}        Idempotency-Key header optional
 *   POST   /accounts/:account/share-transfers   {symbol, qty, cost?}
 *   GET    /symbols/:symbol/trades?limit&cursor                 public tape
 *   GET    /symbols/:symbol/book?levels                         committed depth
 *   GET    /instruments
 *   GET    /exchange                                            session, market halt, last seq
 *   GET    /storage                                             journal/snapshot disk, lags, last backup
 *   POST   /admin/instruments                   InstrumentSpec
 *   POST   /admin/halt                          {symbol|null, halted}
 *   POST   /admin/session                       {state}
 *
 * Errors are application/problem+json (RFC 9457): 400 invalid-request with an `errors` array
 * naming each offending field, 404 order-not-found / not-found, 409 idempotency-key-reused,
 * 422 one type per engine reject reason (problems.ts), 503 unavailable / commit-failed
 * (retriable). Invalid input never reaches the sequencer, so it never changes state.
 */
import type { ErrorObject } from 'ajv';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { installProblemHandlers } from '../../platform/http/problem.ts';
import { finiteNumbers, type Validate } from '../../platform/http/validator.ts';
import type { OrdersClient } from './client.ts';
import type {
  CashRequest,
  HaltRequest,
  InstrumentSpec,
  ListOrdersQuery,
  NewOrderRequest,
  PageQuery,
  ReplaceRequest,
  SessionState,
  ShareTransferRequest,
} from './model.ts';
import { invalidRequest } from './problems.ts';
import * as s from './schemas.ts';

export const DEFAULT_PREFIX = '/internal/orders';

const BODY_LIMIT = 16 * 1024;

/** Problem responses are declared on every route, so they are serialised by schema too. */
const errors = { '4xx': s.problemResponse, '5xx': s.problemResponse };

type Req<P = unknown, B = unknown, Q = unknown> = FastifyRequest<{ Params: P; Body: B; Querystring: Q }>;

/**
 * The orders service's validation and problem handlers, for a plugin's routes (encapsulated: they
 * apply to that plugin only). The shard nodes' door uses the same (shards/routes.ts).
 */
export function installOrdersValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body'
      ? s.bodyAjv.compile(schema as object)
      : finiteNumbers(s.paramsAjv.compile(schema as object) as Validate),
  );
  installProblemHandlers(app, {
    service: 'orders',
    notFound: true,
    // validation names fields the orders service's way (the failed branch of a conditional schema)
    translate: (err) => {
      const e = err as FastifyError;
      if (!e.validation) return undefined;
      const where = e.validationContext ?? 'request';
      return { problem: invalidRequest(s.fieldErrors(where, e.validation as ErrorObject[])).problem };
    },
  });
}

export function ordersRoutes(client: OrdersClient) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    installOrdersValidation(app);

    const opts = (
      schema: Record<string, unknown>,
      ok: Record<number, unknown>,
    ): { schema: Record<string, unknown>; bodyLimit: number } => ({
      schema: { querystring: s.emptyQuery, ...schema, response: { ...ok, ...errors } },
      bodyLimit: BODY_LIMIT,
    });

    type AccountP = { account: string };
    type OrderP = { account: string; id: number };

    app.post(
      '/accounts/:account/orders',
      opts(
        { params: s.accountParams, body: s.newOrderBody },
        { 200: s.orderResultResponse, 201: s.orderResultResponse },
      ),
      async (req: Req<AccountP, NewOrderRequest>, reply) => {
        const result = await client.submitOrder(req.params.account, req.body);
        return reply.code(result.replayed ? 200 : 201).send(result);
      },
    );

    app.get(
      '/accounts/:account/orders',
      opts({ params: s.accountParams, querystring: s.listOrdersQuery }, { 200: s.ordersPageResponse }),
      async (req: Req<AccountP, unknown, ListOrdersQuery>) =>
        client.listOrders(req.params.account, req.query),
    );

    app.get(
      '/accounts/:account/orders/by-client-id/:clientOrderId',
      opts({ params: s.clientOrderParams }, { 200: s.orderResponse }),
      async (req: Req<{ account: string; clientOrderId: string }>) =>
        client.getOrderByClientId(req.params.account, req.params.clientOrderId),
    );

    app.get(
      '/accounts/:account/orders/:id',
      opts({ params: s.orderParams }, { 200: s.orderResponse }),
      async (req: Req<OrderP>) => client.getOrder(req.params.account, req.params.id),
    );

    app.delete(
      '/accounts/:account/orders/:id',
      opts({ params: s.orderParams }, { 200: s.orderResponse }),
      async (req: Req<OrderP>) => client.cancelOrder(req.params.account, req.params.id),
    );

    app.patch(
      '/accounts/:account/orders/:id',
      opts({ params: s.orderParams, body: s.replaceBody }, { 200: s.orderResponse }),
      async (req: Req<OrderP, ReplaceRequest>) =>
        client.replaceOrder(req.params.account, req.params.id, req.body),
    );

    app.get(
      '/accounts/:account/trades',
      opts({ params: s.accountParams, querystring: s.accountTradesQuery }, { 200: s.executionsPageResponse }),
      async (req: Req<AccountP, unknown, PageQuery & { symbol?: string }>) =>
        client.accountTrades(req.params.account, req.query),
    );

    app.get(
      '/accounts/:account/balance',
      opts({ params: s.accountParams }, { 200: s.balanceResponse }),
      async (req: Req<AccountP>) => client.balance(req.params.account),
    );

    app.get(
      '/accounts/:account/positions',
      opts({ params: s.accountParams }, { 200: s.positionsResponse }),
      async (req: Req<AccountP>) => client.positions(req.params.account),
    );

    app.get(
      '/accounts/:account/cash-movements',
      opts({ params: s.accountParams, querystring: s.pageQuery }, { 200: s.cashMovementsPageResponse }),
      async (req: Req<AccountP, unknown, PageQuery>) => client.cashMovements(req.params.account, req.query),
    );

    const keyed = (req: FastifyRequest): { idempotencyKey?: string } => {
      const key = req.headers['idempotency-key'];
      return typeof key === 'string' ? { idempotencyKey: key } : {};
    };

    for (const [path, kind] of [
      ['deposits', 'deposit'],
      ['withdrawals', 'withdraw'],
    ] as const) {
      app.post(
        `/accounts/:account/${path}`,
        opts(
          { params: s.accountParams, body: s.cashBody, headers: s.idempotencyHeaders },
          { 200: s.cashResultResponse, 201: s.cashResultResponse },
        ),
        async (req: Req<AccountP, CashRequest>, reply) => {
          const request = { ...req.body, ...keyed(req) };
          const result = await (kind === 'deposit'
            ? client.deposit(req.params.account, request)
            : client.withdraw(req.params.account, request));
          return reply.code(result.replayed ? 200 : 201).send(result);
        },
      );
    }

    app.post(
      '/accounts/:account/share-transfers',
      opts(
        { params: s.accountParams, body: s.shareTransferBody, headers: s.idempotencyHeaders },
        { 200: s.shareTransferResultResponse, 201: s.shareTransferResultResponse },
      ),
      async (req: Req<AccountP, ShareTransferRequest>, reply) => {
        const result = await client.transferShares(req.params.account, { ...req.body, ...keyed(req) });
        return reply.code(result.replayed ? 200 : 201).send(result);
      },
    );

    app.get(
      '/symbols/:symbol/trades',
      opts({ params: s.symbolParams, querystring: s.symbolTradesQuery }, { 200: s.publicTradesPageResponse }),
      async (req: Req<{ symbol: string }, unknown, PageQuery>) =>
        client.symbolTrades(req.params.symbol, req.query),
    );

    app.get(
      '/symbols/:symbol/book',
      opts({ params: s.symbolParams, querystring: s.depthQuery }, { 200: s.depthResponse }),
      async (req: Req<{ symbol: string }, unknown, { levels?: number }>) =>
        client.depth(req.params.symbol, req.query.levels),
    );

    app.get('/instruments', opts({}, { 200: s.instrumentsResponse }), async () => client.instruments());
    app.get('/exchange', opts({}, { 200: s.exchangeStatusResponse }), async () => client.exchangeStatus());
    app.get('/storage', opts({}, { 200: s.storageStatusResponse }), async () => client.storageStatus());

    app.post(
      '/admin/instruments',
      opts({ body: s.instrumentBody }, { 201: s.instrumentResponse }),
      async (req: Req<unknown, InstrumentSpec>, reply) =>
        reply.code(201).send(await client.addInstrument(req.body)),
    );

    app.post(
      '/admin/halt',
      opts({ body: s.haltBody }, { 200: s.exchangeStatusResponse }),
      async (req: Req<unknown, HaltRequest>) => client.halt(req.body),
    );

    app.post(
      '/admin/session',
      opts({ body: s.sessionBody }, { 200: s.exchangeStatusResponse }),
      async (req: Req<unknown, { state: SessionState }>) => client.setSession(req.body.state),
    );
  };
}

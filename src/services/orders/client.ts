/**
 * The typed client of the orders service, the one way other services and the gateway reach it
 * (with the bus events of events.ts). Two implementations behave the same, errors included:
 *   - in-process: `OrdersService.client` (createOrdersService), calling the handlers directly;
 *   - HTTP: `httpOrdersClient(baseUrl, { internalToken })`, against the internal routes (routes.ts),
 *     which every request reaches only with the deployment's internal token.
 * Every failure is an OrdersApiError carrying an RFC 9457 problem with a stable `type`.
 *
 * `account` is always the acting account: an order of another account is reported as not found.
 */

import { deadline } from '../../platform/http/deadline.ts';
import { internalTokenHeader } from '../../platform/http/forwarded-identity.ts';
import type { RawRequest } from '../../platform/http/upstream/http.ts';
import { resendable } from '../../platform/http/upstream/upstream.ts';
import type {
  Balance,
  BookDepth,
  CashMovement,
  CashRequest,
  CashResult,
  ExchangeStatus,
  Execution,
  HaltRequest,
  Instrument,
  InstrumentSpec,
  ListOrdersQuery,
  NewOrderRequest,
  Order,
  OrderResult,
  Page,
  PageQuery,
  Position,
  PublicTrade,
  ReplaceRequest,
  SessionState,
  ShareTransferRequest,
  ShareTransferResult,
  StorageStatus,
} from './model.ts';
import { OrdersApiError, type Problem, problem } from './problems.ts';

export type * from './model.ts';
export { type FieldError, OrdersApiError, PROBLEM_BASE, type Problem, ROLE_HEADER } from './problems.ts';

export interface OrdersClient {
  submitOrder(account: string, request: NewOrderRequest): Promise<OrderResult>;
  cancelOrder(account: string, orderId: number): Promise<Order>;
  replaceOrder(account: string, orderId: number, request: ReplaceRequest): Promise<Order>;
  /** rejects with 404 order-not-found when absent or another account's */
  getOrder(account: string, orderId: number): Promise<Order>;
  getOrderByClientId(account: string, clientOrderId: string): Promise<Order>;
  listOrders(account: string, query?: ListOrdersQuery): Promise<Page<Order>>;
  accountTrades(account: string, query?: PageQuery & { symbol?: string }): Promise<Page<Execution>>;
  balance(account: string): Promise<Balance>;
  positions(account: string): Promise<Position[]>;
  cashMovements(account: string, query?: PageQuery): Promise<Page<CashMovement>>;
  deposit(account: string, request: CashRequest): Promise<CashResult>;
  withdraw(account: string, request: CashRequest): Promise<CashResult>;
  transferShares(account: string, request: ShareTransferRequest): Promise<ShareTransferResult>;

  symbolTrades(symbol: string, query?: PageQuery): Promise<Page<PublicTrade>>;
  depth(symbol: string, levels?: number): Promise<BookDepth>;
  instruments(): Promise<Instrument[]>;
  exchangeStatus(): Promise<ExchangeStatus>;
  /** journal and snapshot disk use, lags, retention and the last backup (operator status) */
  storageStatus(): Promise<StorageStatus>;

  // admin
  addInstrument(spec: InstrumentSpec): Promise<Instrument>;
  halt(request: HaltRequest): Promise<ExchangeStatus>;
  setSession(state: SessionState): Promise<ExchangeStatus>;
}

export interface HttpOrdersClientOptions {
  /** the deployment's internal token (the first of BOURSE_INTERNAL_TOKEN, or derived from the secret) */
  internalToken: string;
  /** route prefix the service was registered under (default '/internal/orders') */
  prefix?: string;
  fetch?: typeof fetch;
  /** per-request timeout, ms (default 10 s) */
  timeoutMs?: number;
}

const PROBLEM_JSON = 'application/problem+json';

/**
 * Whether a request of `httpOrdersClient` may be sent again once it may have reached an instance
 * (a balancer's retry: platform/http/upstream/fetch.ts), as the gateway decides for its own calls:
 * reads; a cash or share move with an idempotency key; a submission carrying a client order id
 * (the service answers an id it has seen with the first order); a halt or a session move (they
 * set a state). Never a cancel, a replace or a new instrument.
 */
export function resendableOrdersRequest(request: RawRequest): boolean {
  if (resendable(request)) return true;
  if (request.method !== 'POST') return false;
  const path = request.path.split('?')[0]!;
  if (/\/admin\/(halt|session)$/.test(path)) return true;
  if (!/\/accounts\/[^/]+\/orders$/.test(path) || typeof request.body !== 'string') return false;
  try {
    const { clientOrderId } = JSON.parse(request.body) as { clientOrderId?: unknown };
    return typeof clientOrderId === 'string' && clientOrderId !== '';
  } catch {
    return false;
  }
}

export function httpOrdersClient(baseUrl: string, options: HttpOrdersClientOptions): OrdersClient {
  const root = baseUrl.replace(/\/+$/, '') + (options.prefix ?? '/internal/orders');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const seg = encodeURIComponent;

  async function call<T>(
    method: string,
    path: string,
    init: { body?: unknown; query?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const url = new URL(root + path);
    for (const [k, v] of Object.entries(init.query ?? {})) {
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...init.headers,
      ...internalTokenHeader(options.internalToken),
    };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    let text: string;
    const limit = deadline(timeoutMs);
    try {
      try {
        res = await doFetch(url, {
          method,
          headers,
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
          signal: limit.signal,
        });
      } catch (err) {
        throw new OrdersApiError(
          problem(503, 'unavailable', 'Service unavailable', {
            detail: `orders service unreachable: ${(err as Error).message}`,
            retriable: true,
          }),
        );
      }
      text = await res.text();
    } finally {
      limit.clear();
    }
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const isProblem = (res.headers.get('content-type') ?? '').startsWith(PROBLEM_JSON);
      throw new OrdersApiError(
        isProblem
          ? (parsed as Problem)
          : problem(res.status, 'http-error', res.statusText || 'HTTP error', { detail: text.slice(0, 200) }),
      );
    }
    return parsed as T;
  }

  const keyHeader = (key: string | undefined): Record<string, string> =>
    key ? { 'idempotency-key': key } : {};

  return {
    submitOrder: async (account, request) => {
      const { order, replayed } = await call<OrderResult>('POST', `/accounts/${seg(account)}/orders`, {
        body: request,
      });
      return { order, replayed };
    },
    cancelOrder: (account, id) => call('DELETE', `/accounts/${seg(account)}/orders/${id}`),
    replaceOrder: (account, id, request) =>
      call('PATCH', `/accounts/${seg(account)}/orders/${id}`, { body: request }),
    getOrder: (account, id) => call('GET', `/accounts/${seg(account)}/orders/${id}`),
    getOrderByClientId: (account, clientOrderId) =>
      call('GET', `/accounts/${seg(account)}/orders/by-client-id/${seg(clientOrderId)}`),
    listOrders: (account, query = {}) =>
      call('GET', `/accounts/${seg(account)}/orders`, { query: { ...query } }),
    accountTrades: (account, query = {}) =>
      call('GET', `/accounts/${seg(account)}/trades`, { query: { ...query } }),
    balance: (account) => call('GET', `/accounts/${seg(account)}/balance`),
    positions: (account) => call('GET', `/accounts/${seg(account)}/positions`),
    cashMovements: (account, query = {}) =>
      call('GET', `/accounts/${seg(account)}/cash-movements`, { query: { ...query } }),
    deposit: (account, { idempotencyKey, ...body }) =>
      call('POST', `/accounts/${seg(account)}/deposits`, { body, headers: keyHeader(idempotencyKey) }),
    withdraw: (account, { idempotencyKey, ...body }) =>
      call('POST', `/accounts/${seg(account)}/withdrawals`, { body, headers: keyHeader(idempotencyKey) }),
    transferShares: (account, { idempotencyKey, ...body }) =>
      call('POST', `/accounts/${seg(account)}/share-transfers`, { body, headers: keyHeader(idempotencyKey) }),
    symbolTrades: (symbol, query = {}) =>
      call('GET', `/symbols/${seg(symbol)}/trades`, { query: { ...query } }),
    depth: (symbol, levels) => call('GET', `/symbols/${seg(symbol)}/book`, { query: { levels } }),
    instruments: () => call('GET', '/instruments'),
    exchangeStatus: () => call('GET', '/exchange'),
    storageStatus: () => call('GET', '/storage'),
    addInstrument: (spec) => call('POST', '/admin/instruments', { body: spec }),
    halt: (request) => call('POST', '/admin/halt', { body: request }),
    setSession: (state) => call('POST', '/admin/session', { body: { state } }),
  };
}

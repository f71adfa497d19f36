/**
 * RFC 9457 problem details for the orders service. Every error a caller can see, over HTTP or
 * in-process, is an OrdersApiError carrying one of these, with a stable `type` URI that clients
 * switch on (the title and detail are for humans and may change).
 */
import type { RejectReason } from '../../domain/exchange.ts';
import {
  describeFieldError,
  type FieldError,
  PROBLEM_TYPE_BASE,
  ProblemError,
  problemType,
  type Problem as SharedProblem,
} from '../../platform/http/problem.ts';

export { type FieldError, fieldError, problemType } from '../../platform/http/problem.ts';

export const PROBLEM_BASE = PROBLEM_TYPE_BASE;

/** The shared problem (src/platform/http/problem.ts), with this service's own members. */
export interface Problem extends SharedProblem {
  /** 422 from the engine: its stable reject reason */
  reason?: string;
  /** the order the problem is about, when there is one */
  orderId?: number;
  /** true when retrying the same request later may succeed (commit failure, recovery, overload) */
  retriable?: boolean;
  /** not-leader: what this instance is (a standby, or a leader that was fenced out) */
  role?: string;
}

export class OrdersApiError extends ProblemError {
  declare readonly problem: Problem;
  constructor(problem: Problem, headers: Record<string, string> = {}) {
    super(problem, { ...(problem.retriable && { 'retry-after': '1' }), ...headers });
    this.message = problem.detail ? `${problem.title}: ${problem.detail}` : problem.title;
    this.name = 'OrdersApiError';
  }
}

export function problem(status: number, slug: string, title: string, extra: Partial<Problem> = {}): Problem {
  return { type: problemType(slug), title, status, ...extra };
}

export function invalidRequest(errors: FieldError[]): OrdersApiError {
  const first = errors[0];
  const detail = first ? describeFieldError(first) : undefined;
  return new OrdersApiError(problem(400, 'invalid-request', 'Invalid request', { detail, errors }));
}

export function notFound(detail: string): OrdersApiError {
  return new OrdersApiError(problem(404, 'not-found', 'Not found', { detail }));
}

export function orderNotFound(id: number | string): OrdersApiError {
  return new OrdersApiError(
    problem(404, 'order-not-found', 'Order not found', { detail: `no order ${id} for this account` }),
  );
}

export function unavailable(detail: string): OrdersApiError {
  return new OrdersApiError(problem(503, 'unavailable', 'Service unavailable', { detail, retriable: true }));
}

/**
 * The header an orders instance that does not lead its shard answers with (its 503s, /healthz,
 * /readyz): the gateway takes such an instance out of its rotation at once and looks for the
 * leader, and knows nothing was executed, so any request may go elsewhere.
 */
export const ROLE_HEADER = 'bourse-orders-role';
export type NotLeaderRole = 'standby' | 'fenced';

/** 503 from an instance that is not (or no longer) its shard's leader: nothing was executed. */
export function notLeader(role: NotLeaderRole, detail: string): OrdersApiError {
  return new OrdersApiError(
    problem(503, 'not-leader', 'Not the leader of its shard', { detail, retriable: true, role }),
    { [ROLE_HEADER]: role },
  );
}

export function commitFailed(): OrdersApiError {
  return new OrdersApiError(
    problem(503, 'commit-failed', 'Not committed', {
      detail: 'the command could not be made durable and was not executed; retry it',
      retriable: true,
    }),
  );
}

export function idempotencyKeyReused(key: string): OrdersApiError {
  return new OrdersApiError(
    problem(409, 'idempotency-key-reused', 'Idempotency key reused', {
      detail: `key '${key}' was already used for a different request`,
    }),
  );
}

const TITLES: Record<RejectReason, string> = {
  unknown_symbol: 'Unknown symbol',
  unknown_account: 'Unknown account',
  unknown_order: 'Order not found',
  duplicate_order_id: 'Duplicate order id',
  not_owner: 'Order not found',
  invalid_quantity: 'Invalid quantity',
  invalid_price: 'Invalid price',
  off_tick: 'Price off the tick grid',
  off_lot: 'Quantity not a multiple of the lot size',
  below_min_qty: 'Quantity below the minimum',
  above_max_qty: 'Quantity above the maximum',
  outside_price_band: 'Price outside the price band',
  symbol_halted: 'Symbol halted',
  market_halted: 'Market halted',
  market_closed: 'Market closed',
  not_allowed_pre_open: 'Not allowed before the open',
  post_only_would_take: 'Post-only order would take liquidity',
  fok_not_fillable: 'Fill-or-kill order cannot be filled',
  insufficient_funds: 'Insufficient funds',
  insufficient_shares: 'Insufficient shares',
  no_reference_price: 'No reference price',
  order_not_open: 'Order not open',
  invalid_replace: 'Invalid replace',
  invalid_amount: 'Invalid amount',
  duplicate_symbol: 'Symbol already listed',
  invalid_instrument: 'Invalid instrument',
  invalid_trail: 'Invalid trailing stop',
  invalid_order_class: 'Invalid order class',
};

/**
 * An engine rejection. Unknown and foreign orders look the same (404 order-not-found) so that an
 * account cannot probe which order ids exist; everything else is 422 with one type per reason.
 */
export function rejection(reason: RejectReason, orderId?: number): OrdersApiError {
  if (reason === 'unknown_order' || reason === 'not_owner') {
    return orderNotFound(orderId ?? '');
  }
  const slug = reason.replaceAll('_', '-');
  const title = TITLES[reason] ?? reason;
  return new OrdersApiError(
    problem(422, slug, title, { reason, ...(orderId !== undefined ? { orderId } : {}) }),
  );
}

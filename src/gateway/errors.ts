/**
 * The gateway's error and not-found handlers: the shared ones (src/platform/http/problem.ts), with
 * Alpaca's `code`/`message` and the request id on every problem, bad input as 422, a service's
 * problem passed through with its stable type (and its 4xx status), and a service that cannot be
 * reached as 503 (nothing was executed) or 502 (the outcome is unknown).
 */
import type { FastifyRequest } from 'fastify';
import { type ProblemHandlerOptions, problemHandlers } from '../platform/http/problem.ts';
import { UpstreamRequestInvalid, UpstreamUnavailable } from '../platform/http/upstream/upstream.ts';
import { OrdersApiError, type Problem as OrdersProblem } from '../services/orders/client.ts';
import { alpacaCode, INVALID_INPUT_STATUS, type Problem, problem, withAlpacaFields } from './problems.ts';

/** The orders service's camelCase fields → the public API's names. */
const FIELD_NAMES: Record<string, string> = {
  price: 'limit_price',
  stopPrice: 'stop_price',
  clientOrderId: 'client_order_id',
  tif: 'time_in_force',
  orderType: 'type',
};

/** Alpaca answers 403 when buying power or shares fall short, 422 for other refusals. */
const FORBIDDEN_REASONS = new Set(['insufficient_funds', 'insufficient_shares']);

export function fromOrdersProblem(p: OrdersProblem): Problem {
  const status = p.reason && FORBIDDEN_REASONS.has(p.reason) ? 403 : p.status;
  const detail = p.detail ?? p.title;
  return {
    type: p.type,
    title: p.title,
    status,
    detail,
    code: alpacaCode(status),
    message: detail,
    ...(p.reason !== undefined && { reason: p.reason }),
    ...(p.errors && {
      errors: p.errors.map((e) => {
        const field = FIELD_NAMES[e.field] ?? e.field;
        return { ...e, field, pointer: e.pointer === `/${e.field}` ? `/${field}` : e.pointer };
      }),
    }),
  };
}

function translate(err: unknown): { problem: Problem; headers?: Record<string, string> } | undefined {
  if (err instanceof OrdersApiError) {
    return {
      problem: fromOrdersProblem(err.problem),
      headers: err.problem.retriable ? { 'retry-after': '1' } : {},
    };
  }
  if (err instanceof UpstreamUnavailable) {
    const p = err.maybeExecuted
      ? problem(
          502,
          'upstream-outcome-unknown',
          'Outcome unknown',
          `the ${err.upstream} service failed while handling the request; it may or may not have been executed. ` +
            'Look it up (e.g. GET /v2/orders) or resend it with the same client_order_id.',
        )
      : problem(
          503,
          'unavailable',
          'Service unavailable',
          `the ${err.upstream} service is unavailable; nothing was executed`,
        );
    return { problem: p, headers: { 'retry-after': String(err.retryAfterSec) } };
  }
  if (err instanceof UpstreamRequestInvalid) {
    // a value the edge's schemas let through that no HTTP client may send on: still the caller's
    const header = err.unsendable.header;
    const detail = `the request cannot be sent on: ${err.unsendable.message}`;
    const errors = header
      ? [{ in: 'headers', field: header, pointer: '', detail: 'is not a valid header value' }]
      : [];
    return {
      problem: problem(INVALID_INPUT_STATUS, 'invalid-request', 'Invalid request', detail, { errors }),
      headers: {},
    };
  }
  return undefined;
}

export const GATEWAY_PROBLEMS: ProblemHandlerOptions = {
  service: 'gateway',
  validationStatus: INVALID_INPUT_STATUS,
  defaultPart: 'request',
  translate,
  decorate: (p: Problem, request: FastifyRequest) => withAlpacaFields({ ...p, request_id: request.id }),
};

export const { errorHandler, notFoundHandler } = problemHandlers(GATEWAY_PROBLEMS);

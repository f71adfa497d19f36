/**
 * The gateway's error handler: whatever went wrong becomes problem+json (problems.ts). Bad input is
 * 4xx naming the field; a service's problem passes through with its stable type; a service that
 * cannot be reached is 503 (nothing was executed) or 502 (the outcome is unknown).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { OrdersApiError, type Problem as OrdersProblem } from '../services/orders/client.ts';
import { alpacaCode, GatewayError, type Problem, problem, sendProblem } from './problems.ts';
import { UpstreamRequestInvalid, UpstreamUnavailable } from './upstream/upstream.ts';
import { fieldErrors } from './validation.ts';

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
        const name = e.pointer.replace(/^\//, '');
        return { in: e.in, field: FIELD_NAMES[name] ?? name, message: e.detail };
      }),
    }),
  };
}

const STATUS_SLUGS: Record<number, [string, string]> = {
  400: ['malformed-request', 'Malformed request'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  406: ['not-acceptable', 'Not acceptable'],
  413: ['payload-too-large', 'Payload too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
};

export function problemOf(
  err: unknown,
  request: FastifyRequest,
): { problem: Problem; headers: Record<string, string> } {
  if (err instanceof GatewayError) return { problem: err.problem, headers: err.headers };
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
    const errors = header ? [{ in: 'headers', field: header, message: 'is not a valid header value' }] : [];
    return { problem: problem(422, 'invalid-request', 'Invalid request', detail, { errors }), headers: {} };
  }
  const e = err as FastifyError;
  if (e.validation) {
    const where = e.validationContext ?? 'request';
    const errors = fieldErrors(where, e.validation as Parameters<typeof fieldErrors>[1]);
    const first = errors[0];
    const detail = first ? `${first.field || where} ${first.message}` : e.message;
    return { problem: problem(422, 'invalid-request', 'Invalid request', detail, { errors }), headers: {} };
  }
  const status = e.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const [slug, title] = STATUS_SLUGS[status] ?? ['client-error', 'Bad request'];
    return { problem: problem(status, slug, title, e.message), headers: {} };
  }
  request.log.error({ err }, 'gateway: unexpected error');
  return {
    problem: problem(500, 'internal', 'Internal error', 'an unexpected error; it was logged'),
    headers: {},
  };
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { problem: p, headers } = problemOf(err, request);
  return sendProblem(reply, p, headers);
}

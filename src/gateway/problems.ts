/**
 * Errors at the edge: RFC 9457 problem+json with a stable `type`, which also carries Alpaca's
 * error body fields (`code`, a number, and `message`) so that Alpaca client libraries, which read
 * `{code, message}`, report our errors properly. Bad input names each wrong field in `errors`.
 */
import type { FastifyReply } from 'fastify';

export const PROBLEM_JSON = 'application/problem+json';
export const PROBLEM_BASE = 'https://bourse.dev/problems/';

export interface FieldError {
  /** body, querystring, params or headers */
  in: string;
  /** the field as the client spelt it: 'limit_price', 'symbols' */
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
  /** Alpaca's error code: the status followed by a reason number (40010000, 42210000, …) */
  code: number;
  /** Alpaca's error message (the detail, or the title) */
  message: string;
  /** the engine's reject reason, when an order was refused */
  reason?: string;
  request_id?: string;
}

export class GatewayError extends Error {
  constructor(
    readonly problem: Problem,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem.message);
    this.name = 'GatewayError';
  }
}

/** Alpaca's codes are the status times 100,000 plus a reason; ours use reason 10000 throughout. */
export const alpacaCode = (status: number): number => status * 100_000 + 10_000;

export function problem(
  status: number,
  slug: string,
  title: string,
  detail?: string,
  extra: Partial<Omit<Problem, 'type' | 'title' | 'status'>> = {},
): Problem {
  return {
    type: slug.startsWith('https://') ? slug : PROBLEM_BASE + slug,
    title,
    status,
    ...(detail !== undefined && { detail }),
    code: alpacaCode(status),
    message: detail ?? title,
    ...extra,
  };
}

export const fail = (
  status: number,
  slug: string,
  title: string,
  detail?: string,
  extra?: Partial<Problem>,
  headers?: Record<string, string>,
): GatewayError => new GatewayError(problem(status, slug, title, detail, extra), headers);

/** One wrong field: 422, as Alpaca answers input it cannot process. */
export function invalidField(where: string, field: string, message: string): GatewayError {
  return invalidFields([{ in: where, field, message }]);
}

export function invalidFields(errors: FieldError[]): GatewayError {
  const first = errors[0];
  const detail = first
    ? `${first.field === '' ? first.in : first.field} ${first.message}`
    : 'invalid request';
  return fail(422, 'invalid-request', 'Invalid request', detail, { errors });
}

export const notFound = (detail: string): GatewayError => fail(404, 'not-found', 'Not found', detail);

export const unauthorized = (detail = 'Missing or invalid credentials'): GatewayError =>
  fail(401, 'unauthorized', 'Unauthorized', detail, {}, { 'www-authenticate': 'Bearer realm="bourse"' });

export const forbidden = (detail: string): GatewayError => fail(403, 'forbidden', 'Forbidden', detail);

export function sendProblem(
  reply: FastifyReply,
  p: Problem,
  headers: Record<string, string> = {},
): FastifyReply {
  const body = reply.request ? { ...p, request_id: reply.request.id } : p;
  return reply.code(p.status).headers(headers).type(PROBLEM_JSON).send(body);
}

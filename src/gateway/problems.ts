/**
 * Errors at the edge: the shared problem+json module (src/platform/http/problem.ts), and Alpaca's
 * error body fields (`code`, a number, and `message`) in the same document, so that Alpaca client
 * libraries, which read `{code, message}`, report our errors properly. Bad input is 422, as Alpaca
 * answers input it cannot process, and names each wrong field in `errors`.
 */
import type { FastifyReply } from 'fastify';
import {
  type FieldError,
  fieldError,
  invalidFields as invalidFieldsWith,
  PROBLEM_CONTENT_TYPE,
  type Problem,
  ProblemError,
  problem as problemError,
  sendProblem as send,
} from '../platform/http/problem.ts';

export {
  type FieldError,
  PROBLEM_CONTENT_TYPE as PROBLEM_JSON,
  PROBLEM_TYPE_BASE as PROBLEM_BASE,
  type Problem,
  ProblemError as GatewayError,
} from '../platform/http/problem.ts';

/** Bad input at the edge: Alpaca's status for a request it cannot process. */
export const INVALID_INPUT_STATUS = 422;

/** Alpaca's codes are the status times 100,000 plus a reason; ours use reason 10000 throughout. */
export const alpacaCode = (status: number): number => status * 100_000 + 10_000;

/** Alpaca's `code` and `message`, added to a problem that has none (a service's, Fastify's). */
export function withAlpacaFields(p: Problem): Problem {
  return {
    ...p,
    code: typeof p.code === 'number' ? p.code : alpacaCode(p.status),
    message: typeof p.message === 'string' ? p.message : (p.detail ?? p.title),
  };
}

export function problem(
  status: number,
  slug: string,
  title: string,
  detail?: string,
  extra: Partial<Problem> = {},
): Problem {
  return withAlpacaFields(problemError(status, slug, title, detail, extra).problem);
}

export const fail = (
  status: number,
  slug: string,
  title: string,
  detail?: string,
  extra?: Partial<Problem>,
  headers?: Record<string, string>,
): ProblemError => new ProblemError(problem(status, slug, title, detail, extra), headers);

export function invalidFields(errors: FieldError[]): ProblemError {
  const e = invalidFieldsWith(errors, INVALID_INPUT_STATUS);
  return new ProblemError(withAlpacaFields(e.problem));
}

/** One wrong field: 422. */
export const invalidField = (where: string, field: string, detail: string): ProblemError =>
  invalidFields([fieldError(where, field, detail)]);

export const notFound = (detail: string): ProblemError => fail(404, 'not-found', 'Not found', detail);

export const unauthorized = (detail = 'Missing or invalid credentials'): ProblemError =>
  fail(401, 'unauthorized', 'Unauthorized', detail, {}, { 'www-authenticate': 'Bearer realm="bourse"' });

export const forbidden = (detail: string): ProblemError => fail(403, 'forbidden', 'Forbidden', detail);

export function sendProblem(
  reply: FastifyReply,
  p: Problem,
  headers: Record<string, string> = {},
): FastifyReply {
  const body = withAlpacaFields(reply.request ? { ...p, request_id: reply.request.id } : p);
  return send(reply, body, headers);
}

export { PROBLEM_CONTENT_TYPE };

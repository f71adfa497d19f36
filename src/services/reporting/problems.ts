/**
 * RFC 9457 problem details for every error the reporting service answers. `type` is stable;
 * bad input names the wrong field in `errors` (and in `detail`).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://bourse.dev/problems/';

export interface FieldError {
  in: string;
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
}

export class ProblemError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'ProblemError';
    this.problem = problem;
  }
}

export function problem(status: number, slug: string, title: string, detail?: string): ProblemError {
  const p: Problem = { type: PROBLEM_TYPE_BASE + slug, title, status };
  if (detail !== undefined) p.detail = detail;
  return new ProblemError(p);
}

export function invalidField(where: string, field: string, message: string): ProblemError {
  const err = problem(400, 'invalid-request', 'Invalid request', `${where}/${field} ${message}`);
  err.problem.errors = [{ in: where, field, message }];
  return err;
}

export const unauthorized = (): ProblemError =>
  problem(401, 'unauthorized', 'Unauthorized', 'No valid forwarded identity: call through the gateway');
export const forbidden = (detail: string): ProblemError => problem(403, 'forbidden', 'Forbidden', detail);
export const notFound = (what: string): ProblemError =>
  problem(404, 'not-found', 'Not found', `${what} not found`);

interface AjvLikeError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

function fieldOf(err: AjvLikeError, part: string): string {
  const path = err.instancePath.split('/').slice(1);
  if (err.keyword === 'required' && typeof err.params.missingProperty === 'string') {
    path.push(err.params.missingProperty);
  } else if (err.keyword === 'additionalProperties' && typeof err.params.additionalProperty === 'string') {
    path.push(err.params.additionalProperty);
  }
  return path.length > 0 ? path.join('.') : part;
}

function problemOf(error: FastifyError): Problem {
  if (error.validation) {
    const part = error.validationContext ?? 'querystring';
    const errors = (error.validation as AjvLikeError[]).map((e) => ({
      in: part,
      field: fieldOf(e, part),
      message:
        e.keyword === 'additionalProperties'
          ? 'is not an allowed property'
          : e.keyword === 'required'
            ? 'is required'
            : (e.message ?? 'is invalid'),
    }));
    const first = errors[0];
    return {
      type: PROBLEM_TYPE_BASE + 'invalid-request',
      title: 'Invalid request',
      status: 400,
      detail: first ? `${first.in}/${first.field} ${first.message}` : 'The request is invalid',
      errors,
    };
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 400 && status < 500) {
    return {
      type: PROBLEM_TYPE_BASE + 'malformed-request',
      title: 'Malformed request',
      status,
      detail: String(error.message).slice(0, 200),
    };
  }
  return { type: PROBLEM_TYPE_BASE + 'internal', title: 'Internal error', status: 500 };
}

export function problemErrorHandler(
  error: FastifyError | ProblemError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const p = error instanceof ProblemError ? error.problem : problemOf(error);
  if (p.status >= 500) request.log.error({ err: error }, 'reporting: unhandled error');
  return reply
    .code(p.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ ...p, instance: request.url.split('?')[0] });
}

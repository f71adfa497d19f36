/**
 * RFC 9457 problem details for every error this service answers. `type` is stable: clients
 * branch on it, never on `title` or `detail`. Bad input names the wrong field in `errors`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type AjvLikeError, fieldErrors } from '../../platform/http/problem.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://bourse.dev/problems/';

export interface FieldError {
  /** where the field is: body, querystring, params or headers */
  in: string;
  /** dotted path of the field ('password', 'items.0.qty'); the part name when the whole part is wrong */
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
  /** seconds, for 429 */
  retry_after?: number;
}

/** A problem thrown from a handler or hook; the error handler turns it into the answer. */
export class ProblemError extends Error {
  readonly problem: Problem;
  readonly headers: Record<string, string>;
  constructor(problem: Problem, headers: Record<string, string> = {}) {
    super(problem.detail ?? problem.title);
    this.name = 'ProblemError';
    this.problem = problem;
    this.headers = headers;
  }
}

export function problem(
  status: number,
  slug: string,
  title: string,
  detail?: string,
  extra: Partial<Problem> = {},
  headers: Record<string, string> = {},
): ProblemError {
  const p: Problem = { type: PROBLEM_TYPE_BASE + slug, title, status, ...extra };
  if (detail !== undefined) p.detail = detail;
  return new ProblemError(p, headers);
}

/** 'body/password', or just 'body' when the whole part is wrong */
const describe = (e: { in: string; field: string }) => (e.field === e.in ? e.in : `${e.in}/${e.field}`);

export function invalidField(where: string, field: string, message: string): ProblemError {
  return problem(400, 'invalid-request', 'Invalid request', `${describe({ in: where, field })} ${message}`, {
    errors: [{ in: where, field, message }],
  });
}

export const notFound = (what = 'Resource'): ProblemError =>
  problem(404, 'not-found', 'Not found', `${what} not found`);

export const forbidden = (detail = 'You are not allowed to do this'): ProblemError =>
  problem(403, 'forbidden', 'Forbidden', detail);

export function unauthorized(
  detail = 'Missing or invalid credentials',
  error = 'invalid_token',
): ProblemError {
  // RFC 6750 §3: tell the client which scheme and why, without echoing anything it sent
  return problem(
    401,
    'unauthorized',
    'Unauthorized',
    detail,
    {},
    {
      'www-authenticate': `Bearer realm="bourse", error="${error}"`,
    },
  );
}

export const conflict = (slug: string, detail: string, field?: string, where = 'body'): ProblemError =>
  problem(409, slug, 'Conflict', detail, field ? { errors: [{ in: where, field, message: detail }] } : {});

/** JSON schema of a problem answer, for the response schemas of every route. */
export const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    retry_after: { type: 'integer' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['in', 'field', 'message'],
        properties: { in: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

function fromFastifyError(error: FastifyError): Problem {
  if (error.validation) {
    const part = error.validationContext ?? 'body';
    const errors = fieldErrors(error.validation as AjvLikeError[], part);
    const first = errors[0];
    return {
      type: PROBLEM_TYPE_BASE + 'invalid-request',
      title: 'Invalid request',
      status: 400,
      detail: first ? `${describe(first)} ${first.message}` : 'The request is invalid',
      errors,
    };
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status === 413) {
    return { type: PROBLEM_TYPE_BASE + 'payload-too-large', title: 'Payload too large', status };
  }
  if (status === 415) {
    return {
      type: PROBLEM_TYPE_BASE + 'unsupported-media-type',
      title: 'Unsupported media type',
      status,
      detail: 'Send application/json',
    };
  }
  if (status >= 400 && status < 500) {
    // Fastify's own 4xx (malformed JSON, empty body, proto poisoning): its message describes the
    // request, not our internals; keep it short.
    return {
      type: PROBLEM_TYPE_BASE + 'malformed-request',
      title: 'Malformed request',
      status,
      detail: String(error.message).slice(0, 200),
    };
  }
  return { type: PROBLEM_TYPE_BASE + 'internal', title: 'Internal error', status: 500 };
}

export function sendProblem(
  reply: FastifyReply,
  p: Problem,
  headers: Record<string, string> = {},
): FastifyReply {
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply.code(p.status).type(PROBLEM_CONTENT_TYPE).send(p);
}

/** The plugin's error handler: everything leaves as problem+json; only a 5xx is logged as an error. */
export function problemErrorHandler(
  error: FastifyError | ProblemError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof ProblemError) {
    return sendProblem(reply, { ...error.problem, instance: request.url.split('?')[0] }, error.headers);
  }
  const p = fromFastifyError(error);
  if (p.status >= 500) {
    request.log.error({ err: error }, 'unhandled error');
  }
  return sendProblem(reply, { ...p, instance: request.url.split('?')[0] });
}

/**
 * RFC 9457 problem details as the services behind the gateway answer them (market data,
 * reporting): a stable `type`, and for bad input `errors: [{in, field, message}]` naming each
 * wrong field. Each service adds its own builders (problems.ts) and mounts `problemErrorHandler`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://bourse.dev/problems/';

export interface FieldError {
  /** body, querystring, params or headers */
  in: string;
  /** dotted path of the field; the part's name when the whole part is wrong */
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
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'ProblemError';
  }
}

export function problem(
  status: number,
  slug: string,
  title: string,
  detail?: string,
  extra: Partial<Problem> = {},
) {
  const p: Problem = { type: PROBLEM_TYPE_BASE + slug, title, status, ...extra };
  if (detail !== undefined) p.detail = detail;
  return new ProblemError(p);
}

export function invalidField(where: string, field: string, message: string): ProblemError {
  return problem(400, 'invalid-request', 'Invalid request', `${where}/${field} ${message}`, {
    errors: [{ in: where, field, message }],
  });
}

export const unauthorized = (detail = 'Missing or invalid credentials'): ProblemError =>
  problem(401, 'unauthorized', 'Unauthorized', detail);
export const forbidden = (detail: string): ProblemError => problem(403, 'forbidden', 'Forbidden', detail);
export const notFound = (detail: string): ProblemError => problem(404, 'not-found', 'Not found', detail);

export const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
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

export interface AjvLikeError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Ajv's errors in one part of the request → one FieldError each, worded for the client. */
export function fieldErrors(validation: readonly AjvLikeError[], part: string): FieldError[] {
  return validation.map((e) => ({
    in: part,
    field: fieldOf(e, part),
    message:
      e.keyword === 'additionalProperties'
        ? 'is not an allowed property'
        : e.keyword === 'required'
          ? 'is required'
          : (e.message ?? 'is invalid'),
  }));
}

/** Ajv's error → the field it is about ('' path plus 'required' → the missing property). */
export function fieldOf(err: AjvLikeError, part: string): string {
  const path = err.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (err.keyword === 'required' && typeof err.params.missingProperty === 'string') {
    path.push(err.params.missingProperty);
  } else if (err.keyword === 'additionalProperties' && typeof err.params.additionalProperty === 'string') {
    path.push(err.params.additionalProperty);
  }
  return path.length > 0 ? path.join('.') : part;
}

function fromFastifyError(error: FastifyError, defaultPart: string): Problem {
  if (error.validation) {
    const part = error.validationContext ?? defaultPart;
    const errors = fieldErrors(error.validation as AjvLikeError[], part);
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
  if (status === 413)
    return { type: PROBLEM_TYPE_BASE + 'payload-too-large', title: 'Payload too large', status };
  if (status === 415) {
    return {
      type: PROBLEM_TYPE_BASE + 'unsupported-media-type',
      title: 'Unsupported media type',
      status,
      detail: String(error.message).slice(0, 200),
    };
  }
  if (status >= 400 && status < 500) {
    return {
      type: PROBLEM_TYPE_BASE + 'malformed-request',
      title: 'Malformed request',
      status,
      detail: String(error.message).slice(0, 200),
      ...(status === 400 ? { errors: [{ in: 'body', field: 'body', message: String(error.message) }] } : {}),
    };
  }
  return { type: PROBLEM_TYPE_BASE + 'internal', title: 'Internal error', status: 500 };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type(PROBLEM_CONTENT_TYPE).send(p);
}

/** A Fastify error handler answering problem+json; `service` names the log line of a 5xx. */
export function problemErrorHandler(service: string, defaultPart = 'body') {
  return (error: FastifyError | ProblemError, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const instance = request.url.split('?')[0];
    if (error instanceof ProblemError) return sendProblem(reply, { ...error.problem, instance });
    const p = fromFastifyError(error, defaultPart);
    if (p.status >= 500) request.log.error({ err: error }, `${service}: unhandled error`);
    return sendProblem(reply, { ...p, instance });
  };
}

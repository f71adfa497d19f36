/**
 * RFC 9457 problem details: the one module every service and the gateway answer errors with.
 *
 * - A problem has a stable `type` (clients branch on it, never on `title` or `detail`); a service
 *   adds members of its own (the orders service's `reason`, the gateway's Alpaca `code`/`message`).
 * - Bad input names each wrong field in `errors: [{in, field, pointer, detail}]`: the part of the
 *   request, the field as the client spelt it (dotted: 'items.0.qty'; the part's name when the whole
 *   part is wrong), its JSON pointer within that part ('/items/0/qty', '' for the whole part), and
 *   what is wrong with it.
 * - `problemHandlers` builds the error handler, the not-found handler and the server options
 *   (malformed URL, over-long path parameter 414, over-long headers 431) so that everything a
 *   server refuses, Fastify's own refusals included, leaves as problem+json.
 */
import type { Socket } from 'node:net';
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifyServerOptions,
} from 'fastify';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://bourse.dev/problems/';

export interface FieldError {
  /** body, querystring, params or headers */
  in: string;
  /** as the client spelt it, dotted ('limit_price', 'items.0.qty'); the part's name for the whole part */
  field: string;
  /** JSON pointer within the part ('/items/0/qty'); '' for the whole part */
  pointer: string;
  detail: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  /** a service's own members (reason, retry_after, Alpaca's code and message, …) */
  [member: string]: unknown;
}

/** A problem thrown from a handler, hook or client; the error handler turns it into the answer. */
export class ProblemError extends Error {
  constructor(
    readonly problem: Problem,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem.detail ?? problem.title);
    this.name = 'ProblemError';
  }
  get status(): number {
    return this.problem.status;
  }
}

export const problemType = (slug: string): string =>
  slug.startsWith('https://') ? slug : PROBLEM_TYPE_BASE + slug;

export function problem(
  status: number,
  slug: string,
  title: string,
  detail?: string,
  extra: Partial<Problem> = {},
  headers: Record<string, string> = {},
): ProblemError {
  const p: Problem = { type: problemType(slug), title, status, ...extra };
  if (detail !== undefined) p.detail = detail;
  return new ProblemError(p, headers);
}

/** One field error; `field` is a name or a dotted path, or the part's name for the whole part. */
export function fieldError(where: string, field: string, detail: string): FieldError {
  const whole = field === '' || field === where;
  const pointer = whole
    ? ''
    : `/${field
        .split('.')
        .map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1'))
        .join('/')}`;
  return { in: where, field: whole ? where : field, pointer, detail };
}

/** 'body/password is required', or 'body is not JSON' when the whole part is wrong */
export const describeFieldError = (e: FieldError): string =>
  `${e.field === e.in ? e.in : `${e.in}/${e.field}`} ${e.detail}`;

/** Bad input naming every wrong field: 400, or 422 where the API says so (Alpaca's). */
export function invalidFields(errors: FieldError[], status = 400): ProblemError {
  const first = errors[0];
  return problem(
    status,
    'invalid-request',
    'Invalid request',
    first ? describeFieldError(first) : 'The request is invalid',
    { errors },
  );
}

export const invalidField = (where: string, field: string, detail: string, status = 400): ProblemError =>
  invalidFields([fieldError(where, field, detail)], status);

export const unauthorized = (
  detail = 'Missing or invalid credentials',
  headers: Record<string, string> = {},
) => problem(401, 'unauthorized', 'Unauthorized', detail, {}, headers);
export const forbidden = (detail = 'You are not allowed to do this'): ProblemError =>
  problem(403, 'forbidden', 'Forbidden', detail);
export const notFound = (detail: string): ProblemError => problem(404, 'not-found', 'Not found', detail);
export const conflict = (slug: string, detail: string, field?: string, where = 'body'): ProblemError =>
  problem(409, slug, 'Conflict', detail, field ? { errors: [fieldError(where, field, detail)] } : {});

/** JSON schema of a problem answer, for response schemas (the serializer keeps only what it lists). */
export const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status'],
  additionalProperties: true,
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
        required: ['in', 'field', 'pointer', 'detail'],
        properties: {
          in: { type: 'string' },
          field: { type: 'string' },
          pointer: { type: 'string' },
          detail: { type: 'string' },
        },
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

/** A client-chosen name echoed in an answer is cut short: the answer must stay small. */
const MAX_NAME_ECHO = 64;

/** Ajv's errors in one part of the request → one FieldError each, worded for the client. */
export function fieldErrors(validation: readonly AjvLikeError[], part: string): FieldError[] {
  return validation.map((e) => {
    const path = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    let detail = e.message ?? 'is invalid';
    if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') {
      path.push(e.params.missingProperty);
      detail = 'is required';
    } else if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') {
      path.push(e.params.additionalProperty.slice(0, MAX_NAME_ECHO));
      detail = 'is not an allowed property';
    }
    return fieldError(part, path.join('.'), detail);
  });
}

/** Fastify's own 4xx refusals, by status. */
const STATUS_PROBLEMS: Record<number, [string, string]> = {
  400: ['malformed-request', 'Malformed request'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  406: ['not-acceptable', 'Not acceptable'],
  408: ['request-timeout', 'Request timeout'],
  413: ['payload-too-large', 'Payload too large'],
  414: ['uri-too-long', 'URI too long'],
  415: ['unsupported-media-type', 'Unsupported media type'],
  431: ['request-header-fields-too-large', 'Request header fields too large'],
};

export function statusProblem(status: number, detail?: string): Problem {
  const [slug, title] = STATUS_PROBLEMS[status] ?? ['client-error', 'Bad request'];
  return { type: problemType(slug), title, status, ...(detail !== undefined && { detail }) };
}

/** PostgreSQL's data exceptions that only a client's value causes (a NUL in text, say). */
const INPUT_SQLSTATES = new Set(['22021', '22P05', '54000']);

/** Any error → the problem it answers; `validationStatus` is 400, or 422 for Alpaca's API. */
export function problemOf(err: unknown, validationStatus = 400, defaultPart = 'body'): Problem {
  if (err instanceof ProblemError) return err.problem;
  const e = err as FastifyError & { code?: string };
  if (e.validation) {
    const part = e.validationContext ?? defaultPart;
    return invalidFields(fieldErrors(e.validation as AjvLikeError[], part), validationStatus).problem;
  }
  if (typeof e.code === 'string' && INPUT_SQLSTATES.has(e.code)) {
    return problem(400, 'invalid-request', 'Invalid request', 'a value in the request cannot be stored')
      .problem;
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status === 400) {
    // unparseable body (bad JSON, empty JSON body, proto poisoning): the body as a whole is wrong
    const detail = String(e.message).slice(0, 200);
    return { ...statusProblem(400, detail), errors: [fieldError(defaultPart, defaultPart, detail)] };
  }
  if (status >= 400 && status < 500) return statusProblem(status, String(e.message).slice(0, 200));
  return problem(500, 'internal', 'Internal error', 'an unexpected error; it was logged').problem;
}

export function sendProblem(
  reply: FastifyReply,
  p: Problem,
  headers: Record<string, string> = {},
): FastifyReply {
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply.code(p.status).type(PROBLEM_CONTENT_TYPE).send(p);
}

export interface ProblemHandlerOptions {
  /** names the log line of a 5xx */
  service: string;
  /** bad input: 400, or 422 where the API says so */
  validationStatus?: number;
  /** the part a validation error is in when Fastify does not say */
  defaultPart?: string;
  /** an error of the caller's own kind → its problem (the gateway: a service that cannot be reached) */
  translate?: (err: unknown) => { problem: Problem; headers?: Record<string, string> } | undefined;
  /** the last touch on every problem (the gateway: Alpaca's code and message, the request id) */
  decorate?: (p: Problem, request: FastifyRequest) => Problem;
}

export interface ProblemHandlers {
  errorHandler: (err: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply;
  notFoundHandler: (request: FastifyRequest, reply: FastifyReply) => FastifyReply;
}

export function problemHandlers(opts: ProblemHandlerOptions): ProblemHandlers {
  const decorate =
    opts.decorate ?? ((p: Problem, request: FastifyRequest) => ({ ...p, instance: pathOf(request) }));
  const answer = (reply: FastifyReply, p: Problem, headers: Record<string, string> = {}) =>
    sendProblem(reply, decorate(p, reply.request), headers);
  return {
    errorHandler(err, request, reply) {
      const translated = opts.translate?.(err);
      if (translated) return answer(reply, translated.problem, translated.headers);
      const p = problemOf(err, opts.validationStatus, opts.defaultPart);
      if (p.status >= 500) request.log.error({ err }, `${opts.service}: unexpected error`);
      return answer(reply, p, err instanceof ProblemError ? err.headers : {});
    },
    notFoundHandler(request, reply) {
      return answer(reply, statusProblem(404, `no route ${request.method} ${pathOf(request).slice(0, 200)}`));
    },
  };
}

/** Marks a server (and the plugins inside it) whose requests are already checked for NUL. */
const NUL_CHECKED = 'bourseNulChecked';

const pathOf = (request: FastifyRequest): string => request.url.split('?')[0] ?? request.url;

/**
 * Mounts the error handler on `app` (a plugin's scope, or a whole server) and refuses a NUL
 * character anywhere in the URL or a body before validation: no database stores one, so it would
 * otherwise fail deep inside as a 500. `notFound`: answer unknown routes too (a server's root, or a
 * plugin with a prefix of its own; Fastify allows one not-found handler per prefix).
 */
export function installProblemHandlers(
  app: FastifyInstance,
  opts: ProblemHandlerOptions & { notFound?: boolean },
): ProblemHandlers {
  const handlers = problemHandlers(opts);
  app.setErrorHandler(handlers.errorHandler);
  if (opts.notFound) app.setNotFoundHandler(handlers.notFoundHandler);
  // once per request: a service's plugin mounted on a server that already checks (bourse start's
  // internal server) inherits the check rather than walking the body a second time
  if (!app.hasDecorator(NUL_CHECKED)) {
    app.decorate(NUL_CHECKED, true);
    app.addHook('preValidation', async (request) => {
      if (/%00|\0/.test(request.url))
        throw invalidField('querystring', 'querystring', 'must not contain NUL');
      const field = nulField(request.body, '');
      if (field !== undefined) throw invalidField('body', field, 'must not contain NUL');
    });
  }
  return handlers;
}

/** The dotted path of the first string holding a NUL ('' for the body itself), if any. */
function nulField(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path : undefined;
  // a raw body (the gateway forwards bytes): a NUL byte, or JSON's escape for one
  if (Buffer.isBuffer(value)) return value.includes(0) || value.includes('\\u0000') ? path : undefined;
  // deeper than any schema goes: validation refuses it anyway, and the walk must stay bounded
  if (value === null || typeof value !== 'object' || depth > 32) return undefined;
  if (typeof (value as { pipe?: unknown }).pipe === 'function') return undefined;
  for (const [k, v] of Object.entries(value)) {
    const found = nulField(v, path ? `${path}.${k}` : k, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Server options for a Fastify instance: what it refuses before routing (a malformed URL, a path
 * parameter over `maxParamLength`: 414) and on the socket (headers or a request line too long:
 * 431) answers problem+json like everything else.
 */
export function problemServerOptions(
  opts: ProblemHandlerOptions,
): Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler'> {
  const handlers = problemHandlers(opts);
  return {
    frameworkErrors: (err, request, reply) => {
      const code = (err as { code?: string }).code;
      if (code === 'FST_ERR_MAX_PARAM_LENGTH')
        handlers.errorHandler(Object.assign(err, { statusCode: 414 }), request, reply);
      else handlers.errorHandler(err, request, reply);
    },
    clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const status =
        err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const body = JSON.stringify(statusProblem(status));
      if (socket.writable) {
        socket.write(
          `HTTP/1.1 ${status} ${STATUS_PROBLEMS[status]?.[1] ?? 'Bad request'}\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
            `Connection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy(err);
    },
  };
}

/**
 * The users service's problems: the shared problem+json module (src/platform/http/problem.ts),
 * with builders worded for this service and its error and not-found handlers. `type` is stable:
 * clients branch on it, never on `title` or `detail`. Bad input names the wrong field in `errors`.
 */

import type { FastifyInstance } from 'fastify';
import {
  installProblemHandlers as install,
  type ProblemError,
  problem,
  problemHandlers,
} from '../../platform/http/problem.ts';

export {
  conflict,
  type FieldError,
  fieldError,
  invalidField,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPE_BASE,
  type Problem,
  ProblemError,
  problem,
  problemSchema,
  sendProblem,
} from '../../platform/http/problem.ts';

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

export const USERS_PROBLEMS = { service: 'users' } as const;

/** The plugin's error handler: everything leaves as problem+json; only a 5xx is logged as an error. */
export const problemErrorHandler = problemHandlers(USERS_PROBLEMS).errorHandler;

export const installProblemHandlers = (app: FastifyInstance) => install(app, USERS_PROBLEMS);

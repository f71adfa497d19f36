/**
 * The reporting service's problems: the shared problem+json module (src/platform/http/problem.ts),
 * its builders worded for reports, and its error handler (a bad query names the field).
 */
import type { FastifyInstance } from 'fastify';
import {
  installProblemHandlers as install,
  type ProblemError,
  problem,
  unauthorized as unauthorizedBecause,
} from '../../platform/http/problem.ts';

export {
  type FieldError,
  forbidden,
  invalidField,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPE_BASE,
  type Problem,
  ProblemError,
  problem,
} from '../../platform/http/problem.ts';

export const unauthorized = (): ProblemError =>
  unauthorizedBecause('No valid forwarded identity: call through the gateway');
export const notFound = (what: string): ProblemError =>
  problem(404, 'not-found', 'Not found', `${what} not found`);

export const installProblemHandlers = (app: FastifyInstance) =>
  install(app, { service: 'reporting', defaultPart: 'querystring' });

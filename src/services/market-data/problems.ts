/**
 * The market-data service's problems: the shared problem+json module (src/platform/http/problem.ts)
 * and this service's error handler.
 */
import type { FastifyInstance } from 'fastify';
import { installProblemHandlers as install } from '../../platform/http/problem.ts';

export {
  type FieldError,
  fieldError,
  forbidden,
  invalidField,
  notFound,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPE_BASE,
  type Problem,
  ProblemError,
  problem,
  problemSchema,
  sendProblem,
  unauthorized,
} from '../../platform/http/problem.ts';

export const installProblemHandlers = (app: FastifyInstance) => install(app, { service: 'market-data' });

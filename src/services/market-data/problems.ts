/**
 * The market-data service's problem details: the shared shape (src/platform/http/problem.ts) and
 * this service's error handler.
 */
import { problemErrorHandler as handlerFor } from '../../platform/http/problem.ts';

export {
  type FieldError,
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

export const problemErrorHandler = handlerFor('market-data');

/**
 * The gateway's request validation: bodies exactly as their schema says, numbers in URLs finite
 * (the shared strict compiler); Ajv's errors become field errors in src/platform/http/problem.ts.
 */
import { strictValidatorCompiler } from '../platform/http/validator.ts';

export const validatorCompiler = strictValidatorCompiler(['uuid', 'date-time', 'date']);

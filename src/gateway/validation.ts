/**
 * The gateway's request validation: bodies exactly as their schema says (the shared strict
 * compiler), and Ajv's errors turned into the fields as the client spelt them.
 */
import type { ErrorObject } from 'ajv';
import { strictValidatorCompiler } from '../platform/http/validator.ts';
import type { FieldError } from './problems.ts';

export const validatorCompiler = strictValidatorCompiler(['uuid', 'date-time', 'date']);

const MAX_VALUE_ECHO = 64;

/** Ajv's errors → the fields as the client spelt them ('limit_price', 'items/0/qty'). */
export function fieldErrors(where: string, errors: readonly ErrorObject[]): FieldError[] {
  return errors.map((e) => {
    const path = e.instancePath.replace(/^\//, '');
    const params = e.params as { missingProperty?: string; additionalProperty?: string };
    if (e.keyword === 'required' && params.missingProperty !== undefined) {
      return { in: where, field: join(path, params.missingProperty), message: 'is required' };
    }
    if (e.keyword === 'additionalProperties' && params.additionalProperty !== undefined) {
      const field = join(path, params.additionalProperty);
      return { in: where, field: field.slice(0, MAX_VALUE_ECHO), message: 'is not a known field' };
    }
    return { in: where, field: path, message: e.message ?? 'is invalid' };
  });
}

const join = (path: string, name: string): string => (path ? `${path}/${name}` : name);

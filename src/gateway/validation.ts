/**
 * The gateway's request validator. Fastify's default Ajv coerces types and silently drops unknown
 * properties; at the edge a body is exactly what its schema says or it is refused naming the field
 * (a misspelt `stop_price` must not turn a stop order into a market order). Query strings and path
 * parameters coerce, because everything in a URL is a string.
 */
import { Ajv, type ErrorObject, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { FieldError } from './problems.ts';

// ajv-formats is CommonJS with a default export; under NodeNext the callable sits on .default
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const common: Options = {
  useDefaults: true,
  // allErrors would let a crafted body make validation do unbounded work: the first error is named
  allErrors: false,
  strict: true,
  allowUnionTypes: true,
  addUsedSchema: false,
};

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({ ...common, coerceTypes: coerce ? 'array' : false, removeAdditional: false });
  addFormats(ajv, ['uuid', 'date-time', 'date']);
  return ajv;
}

const strictBodies = makeAjv(false);
const coercingUrl = makeAjv(true);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' || httpPart === 'headers' ? strictBodies : coercingUrl).compile(schema as object);

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

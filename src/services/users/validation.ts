/**
 * This plugin's own request validator. Fastify's default Ajv coerces types and silently drops
 * unknown properties; for credentials and role changes we want the opposite: a body is exactly
 * what its schema says or it is a 400 naming the field (`{"password": 123}` is not a password,
 * `{"role": "admin"}` on registration is not quietly ignored). Query strings and path params still
 * coerce, because everything in a URL is a string.
 */
import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS with a default export; under NodeNext the callable sits on .default
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const common: Options = {
  useDefaults: true,
  // allErrors would let a crafted body make validation do unbounded work
  allErrors: false,
  strict: true,
  // `type: ['string', 'null']` is how a nullable field is written
  allowUnionTypes: true,
  addUsedSchema: false,
};

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({ ...common, coerceTypes: coerce ? 'array' : false, removeAdditional: false });
  addFormats(ajv, ['email', 'uuid', 'date-time']);
  return ajv;
}

const strictBodies = makeAjv(false);
const coercingUrl = makeAjv(true);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' || httpPart === 'headers' ? strictBodies : coercingUrl;
  return ajv.compile(schema as object);
};

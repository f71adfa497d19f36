/**
 * A Fastify validator compiler for public routes. Fastify's default Ajv coerces types and
 * silently drops unknown properties; here a body (and headers) is exactly what its schema says or
 * it is refused naming the field (a misspelt `stop_price` must not turn a stop order into a market
 * order; `{"password": 123}` is not a password). Query strings and path parameters coerce,
 * because everything in a URL is a string.
 */
import { Ajv, type Options } from 'ajv';
import addFormatsModule, { type FormatName } from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS with a default export; under NodeNext the callable sits on .default
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const common: Options = {
  useDefaults: true,
  // allErrors would let a crafted body make validation do unbounded work: the first error is named
  allErrors: false,
  strict: true,
  // `type: ['string', 'null']` is how a nullable field is written
  allowUnionTypes: true,
  addUsedSchema: false,
  removeAdditional: false,
};

function makeAjv(coerce: boolean, formats: readonly FormatName[]): Ajv {
  const ajv = new Ajv({ ...common, coerceTypes: coerce ? 'array' : false });
  addFormats(ajv, [...formats]);
  return ajv;
}

/** One compiler per plugin; `formats` are the ajv-formats the plugin's schemas use. */
export function strictValidatorCompiler(formats: readonly FormatName[]): FastifySchemaCompiler<unknown> {
  const strictBodies = makeAjv(false, formats);
  const coercingUrl = makeAjv(true, formats);
  return ({ schema, httpPart }) =>
    (httpPart === 'body' || httpPart === 'headers' ? strictBodies : coercingUrl).compile(schema as object);
}

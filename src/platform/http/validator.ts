/**
 * A Fastify validator compiler for public routes. Fastify's default Ajv coerces types and
 * silently drops unknown properties; here a body (and headers) is exactly what its schema says or
 * it is refused naming the field (a misspelt `stop_price` must not turn a stop order into a market
 * order; `{"password": 123}` is not a password). Query strings and path parameters coerce,
 * because everything in a URL is a string.
 */
import { Ajv, type Options } from 'ajv';
import addFormatsModule, { type FormatName } from 'ajv-formats';
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';

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

export type Validate = ((data: unknown) => boolean) & { errors?: FastifySchemaValidationError[] | null };

/**
 * Ajv coerces '1e309' and 'Infinity' in a URL to Infinity and lets it through `type: integer` with
 * a `maximum` (PostgreSQL then refuses it as a bigint): a number in a URL must also be finite.
 */
export function finiteNumbers(validate: Validate): Validate {
  const checked: Validate = (data) => {
    if (!validate(data)) {
      checked.errors = validate.errors ?? null;
      return false;
    }
    const path = nonFinitePath(data, '');
    if (path === undefined) {
      checked.errors = null;
      return true;
    }
    checked.errors = [
      {
        keyword: 'type',
        instancePath: path,
        schemaPath: '#',
        params: {},
        message: 'must be a finite number',
      },
    ];
    return false;
  };
  return checked;
}

function nonFinitePath(data: unknown, path: string): string | undefined {
  if (typeof data === 'number') return Number.isFinite(data) ? undefined : path;
  if (data === null || typeof data !== 'object') return undefined;
  for (const [k, v] of Object.entries(data)) {
    const found = nonFinitePath(v, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** One compiler per plugin; `formats` are the ajv-formats the plugin's schemas use. */
export function strictValidatorCompiler(formats: readonly FormatName[]): FastifySchemaCompiler<unknown> {
  const strictBodies = makeAjv(false, formats);
  const coercingUrl = makeAjv(true, formats);
  return ({ schema, httpPart }) =>
    httpPart === 'body' || httpPart === 'headers'
      ? strictBodies.compile(schema as object)
      : finiteNumbers(coercingUrl.compile(schema as object) as Validate);
}

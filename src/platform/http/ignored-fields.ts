/**
 * Fields a route does not use, ignored and named, as Alpaca's API reads requests (issue 12): on the
 * routes `applies` picks, a body or query field that the route's schema does not name is dropped
 * before validation (in nested objects too: `take_profit.foo`), and the answer lists what was
 * dropped in `X-Bourse-Ignored-Fields`, so that a misspelt field is accepted as Alpaca accepts it
 * yet visible. The values of the fields the schema names are checked as strictly as ever. Every
 * other route stays strict (validator.ts): an unknown field is refused, naming it. The gateway
 * uses it for its /v2 routes, and the services for the /v2 (and Alpaca /v1beta1) routes the
 * gateway forwards to them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

export const IGNORED_FIELDS_HEADER = 'x-bourse-ignored-fields';

interface ObjectSchema {
  properties?: Record<string, unknown>;
  additionalProperties?: boolean;
  anyOf?: unknown[];
}

/** the object branch of a schema (`nullable(object)` is an anyOf of it and null) */
function objectSchema(schema: unknown): ObjectSchema | undefined {
  const s = schema as ObjectSchema | undefined;
  if (s?.properties !== undefined || s?.additionalProperties === false) return s;
  return s?.anyOf?.map(objectSchema).find((x) => x !== undefined);
}

/** Removes from `value` what `schema` (an object schema that refuses others) does not name. */
function dropUnknown(value: unknown, schema: unknown, prefix: string, dropped: string[]): void {
  const s = objectSchema(schema);
  if (s === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) return;
  const known = s.properties ?? {};
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key in known) dropUnknown(record[key], known[key], `${prefix}${key}.`, dropped);
    else if (s.additionalProperties === false) {
      delete record[key];
      dropped.push(`${prefix}${key}`);
    }
  }
}

/** a header value stays short and printable whatever a client sends */
const MAX_LISTED = 20;
const FIELD_NAME = /^[\w.-]{1,64}$/;

export function ignoreUnknownFields(app: FastifyInstance, applies: (req: FastifyRequest) => boolean): void {
  app.addHook('preValidation', async (req, reply) => {
    if (!applies(req)) return;
    const schema = req.routeOptions.schema as { body?: unknown; querystring?: unknown } | undefined;
    const dropped: string[] = [];
    dropUnknown(req.body, schema?.body, '', dropped);
    dropUnknown(req.query, schema?.querystring, '', dropped);
    if (dropped.length === 0) return;
    const listed = dropped.map((f) => (FIELD_NAME.test(f) ? f : '?')).slice(0, MAX_LISTED);
    if (dropped.length > MAX_LISTED) listed.push('...');
    reply.header(IGNORED_FIELDS_HEADER, listed.join(','));
  });
}

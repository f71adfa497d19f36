/**
 * Requests read as Alpaca reads them.
 *
 * - Alpaca's API takes JSON whatever the Content-Type, and clients exist that send none (or
 *   fetch's default text/plain for a string body). A /v2 request with a body and no Content-Type,
 *   or text/plain, is read as JSON; its values are still checked by the schema.
 * - Alpaca ignores fields it does not use, and Alpaca clients send some Bourse does not use (an
 *   `order_id` echoed in a replace body, `symbol` in a close-position query). On /v2 a body or
 *   query field that the route's schema does not name is dropped before validation (in nested
 *   objects too: `take_profit.foo`), and the answer names what was dropped in the
 *   `X-Bourse-Ignored-Fields` header: a misspelt `stop_prce` is still visible to whoever looks,
 *   without refusing what Alpaca accepts. The values of the fields the route knows are checked as
 *   strictly as ever. Bourse's own routes (/v1, /auth, ...) stay strict: an unknown field is a 400.
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

const isAlpaca = (req: FastifyRequest) => req.url.startsWith('/v2/') || req.url.startsWith('/v2?');

/** a header value stays short and printable whatever a client sends */
const MAX_LISTED = 20;
const FIELD_NAME = /^[\w.-]{1,64}$/;

export function readAsAlpaca(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    const type = req.headers['content-type'];
    if ((type !== undefined && !type.startsWith('text/plain')) || !isAlpaca(req)) return;
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody) req.headers['content-type'] = 'application/json';
  });
  app.addHook('preValidation', async (req, reply) => {
    if (!isAlpaca(req)) return;
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

/** Route option helpers shared by the public API's route files. */
import { problemResponse } from '../alpaca/schemas.ts';
import type { RouteClass } from '../config.ts';
import type { EdgeRouteConfig } from '../context.ts';

/** who may call an authenticated route: a bearer token or an API key pair (OpenAPI) */
export const SECURITY: { [scheme: string]: string[] }[] = [
  { bearerAuth: [] },
  { apiKeyId: [], apiKeySecret: [] },
];

export interface RouteSpec {
  tags: string[];
  summary: string;
  description?: string;
  params?: unknown;
  querystring?: unknown;
  body?: unknown;
  headers?: unknown;
  response: Record<number, unknown>;
  rateClass?: RouteClass;
  auth?: EdgeRouteConfig['auth'];
}

/** Schema (validation + OpenAPI) and edge config of one public route. */
export function route(spec: RouteSpec) {
  const { rateClass = 'reads', auth = 'required', response, ...schema } = spec;
  return {
    schema: {
      ...schema,
      ...(auth === 'required' && { security: SECURITY }),
      response: { ...response, '4xx': problemResponse, '5xx': problemResponse },
    },
    config: { rateClass, auth } satisfies EdgeRouteConfig,
  };
}

/**
 * An idempotency key: it travels on to the service as an HTTP header, so it is printable ASCII
 * without spaces (0x21–0x7E), the values every HTTP client may send. Anything else is refused here,
 * naming the field, before it can reach an upstream call.
 */
export const IDEMPOTENCY_KEY_PATTERN = '^[!-~]{1,128}$';
export const idempotencyKeySchema = {
  type: 'string',
  pattern: IDEMPOTENCY_KEY_PATTERN,
  description: '1 to 128 printable ASCII characters, no spaces',
} as const;
/** The `Idempotency-Key` request header of a route that forwards it. */
export const idempotencyKeyHeaders = {
  type: 'object',
  properties: { 'idempotency-key': idempotencyKeySchema },
} as const;

export const noContent = { type: 'null', description: 'No content' } as const;

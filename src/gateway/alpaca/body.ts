/**
 * Requests read as Alpaca reads them.
 *
 * - Alpaca's API takes JSON whatever the Content-Type, and clients exist that send none (or
 *   fetch's default text/plain for a string body). A /v2 request with a body and no Content-Type,
 *   or text/plain, is read as JSON; its values are still checked by the schema.
 * - Alpaca ignores fields it does not use, and Alpaca clients send some Bourse does not use (an
 *   `order_id` echoed in a replace body, `symbol` in a close-position query). On /v2 they are
 *   ignored and named in `X-Bourse-Ignored-Fields` (platform/http/ignored-fields.ts); Bourse's own
 *   routes (/v1, /auth, ...) stay strict.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ignoreUnknownFields } from '../../platform/http/ignored-fields.ts';

const isAlpaca = (req: FastifyRequest) => req.url.startsWith('/v2/') || req.url.startsWith('/v2?');

export function readAsAlpaca(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    const type = req.headers['content-type'];
    if ((type !== undefined && !type.startsWith('text/plain')) || !isAlpaca(req)) return;
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody) req.headers['content-type'] = 'application/json';
  });
  ignoreUnknownFields(app, isAlpaca);
}

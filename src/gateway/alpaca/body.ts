/**
 * Bodies read as Alpaca reads them: Alpaca's API takes JSON whatever the Content-Type, and
 * clients exist that send none (or fetch's default text/plain for a string body). A /v2 request
 * with a body and no Content-Type, or text/plain, is read as JSON
 * (the header is set before Fastify picks a parser); its values are still checked by the schema.
 */
import type { FastifyInstance } from 'fastify';

export function acceptUntypedJson(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    const type = req.headers['content-type'];
    if ((type !== undefined && !type.startsWith('text/plain')) || !req.url.startsWith('/v2/')) return;
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody) req.headers['content-type'] = 'application/json';
  });
}

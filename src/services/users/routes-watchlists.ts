/**
 * Alpaca's /v2/watchlists: by id and by name (`/v2/watchlists:by_name?name=`). Only ever the
 * caller's own. Bodies are read as Alpaca reads them: unknown fields are ignored, values checked.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { authenticate, identityOf } from './auth.ts';
import type { UsersContext } from './context.ts';
import { notFound } from './problems.ts';
import {
  watchlistAddBody as addBody,
  watchlistByName as byName,
  watchlistCreateBody as createBody,
  idParam,
  watchlistSymbolParams as idSymbolParams,
  noContent,
  route,
  watchlistUpdateBody as updateBody,
  watchlistSchema as watchlist,
  watchlistList,
  withProblems,
} from './schemas.ts';
import { type WatchlistKey, type WatchlistRow, watchlistView } from './watchlists.ts';

const ok = withProblems({ 200: watchlist });
const tags = ['watchlists'];

type Body = { name?: string; symbols?: string[]; symbol?: string };

export async function watchlistRoutes(app: FastifyInstance, ctx: UsersContext): Promise<void> {
  const any = authenticate(ctx.auth, 'any');
  const store = ctx.watchlists;
  const found = (row: WatchlistRow | null) => {
    if (!row) throw notFound('Watchlist');
    return watchlistView(row);
  };

  app.get(
    '/v2/watchlists',
    {
      onRequest: any,
      schema: route({ summary: 'Your watchlists', tags, response: withProblems({ 200: watchlistList }) }),
    },
    async (req) => (await store.list(identityOf(req).userId)).map((w) => watchlistView(w, false)),
  );

  app.post<{ Body: Body }>(
    '/v2/watchlists',
    {
      onRequest: any,
      schema: route({ summary: 'Create a watchlist', tags, body: createBody, response: ok }),
    },
    async (req) =>
      watchlistView(await store.create(identityOf(req).userId, req.body.name!, req.body.symbols ?? [])),
  );

  // the same four operations by id and by name
  const keyed = <P>(url: string, params: unknown, keyOf: (p: P) => WatchlistKey) => {
    const schema = (summary: string, extra: Record<string, unknown> = {}) =>
      route({ summary, tags, [params === byName ? 'querystring' : 'params']: params, ...extra });
    const key = (req: { params: unknown; query: unknown }) =>
      keyOf((params === byName ? req.query : req.params) as P);
    app.get(url, { onRequest: any, schema: schema('A watchlist', { response: ok }) }, async (req) =>
      found(await store.get(identityOf(req).userId, key(req))),
    );
    app.post<{ Body: Body }>(
      url,
      { onRequest: any, schema: schema('Add a symbol to a watchlist', { body: addBody, response: ok }) },
      async (req) => found(await store.add(identityOf(req).userId, key(req), req.body.symbol!)),
    );
    app.put<{ Body: Body }>(
      url,
      {
        onRequest: any,
        schema: schema('Rename a watchlist or replace its symbols', { body: updateBody, response: ok }),
      },
      async (req) =>
        found(
          await store.update(identityOf(req).userId, key(req), {
            name: req.body.name,
            symbols: req.body.symbols,
          }),
        ),
    );
    app.delete(
      url,
      { onRequest: any, schema: schema('Delete a watchlist', { response: noContent }) },
      async (req, reply: FastifyReply) => {
        if (!(await store.remove(identityOf(req).userId, key(req)))) throw notFound('Watchlist');
        return reply.code(204).send();
      },
    );
  };
  keyed<{ id: string }>('/v2/watchlists/:id', idParam, (p) => ({ id: p.id }));
  // '::' is find-my-way's escaped ':' — the path is /v2/watchlists:by_name
  keyed<{ name: string }>('/v2/watchlists::by_name', byName, (q) => ({ name: q.name }));

  app.delete<{ Params: { id: string; symbol: string } }>(
    '/v2/watchlists/:id/:symbol',
    {
      onRequest: any,
      schema: route({
        summary: 'Remove a symbol from a watchlist',
        tags,
        params: idSymbolParams,
        response: ok,
      }),
    },
    async (req) => found(await store.removeSymbol(identityOf(req).userId, req.params.id, req.params.symbol)),
  );
}

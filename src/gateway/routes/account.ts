/** /v2/account, /v2/clock and /v2/assets. */
import type { FastifyInstance } from 'fastify';
import { assetUuid } from '../../domain/alpaca-ids.ts';
import { alpacaAccount, alpacaAsset } from '../alpaca/mapping.ts';
import * as s from '../alpaca/schemas.ts';
import { TtlMap } from '../auth/ttl-map.ts';
import { accountOf, type GatewayContext } from '../context.ts';
import { notFound } from '../problems.ts';
import { route } from './common.ts';
import { marksFor } from './positions.ts';

const DAY_MS = 86_400_000;
const REGISTERED_TTL_MS = 600_000;

export async function accountRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const registered = new TtlMap<string | null>(100_000);

  app.get(
    '/v2/account',
    route({
      tags: ['account'],
      summary: 'Get the account',
      description: 'A cash account: buying power is the cash not reserved by open buy orders.',
      querystring: s.actingQuery,
      response: { 200: s.account },
    }),
    async (req) => {
      const account = await accountOf(ctx, req);
      let createdAt = registered.get(account);
      const [balance, positions, marks, user] = await Promise.all([
        ctx.orders(req.id, true, (c) => c.balance(account)),
        ctx.orders(req.id, true, (c) => c.positions(account)),
        marksFor(ctx, req),
        createdAt === undefined ? ctx.users(req.id, (u) => u.getUser(account)) : Promise.resolve(undefined),
      ]);
      if (createdAt === undefined) {
        createdAt = user?.created_at ?? null;
        registered.set(account, createdAt, REGISTERED_TTL_MS);
      }
      return alpacaAccount(account, createdAt, balance, positions, marks, Date.now());
    },
  );

  app.get(
    '/v2/clock',
    route({
      tags: ['account'],
      summary: 'Get the market clock',
      description:
        'is_open follows the exchange session (opened and closed by an admin, not by a timetable); ' +
        'next_open / next_close are nominal: the next UTC midnight.',
      response: { 200: s.clock },
    }),
    async (req) => {
      const status = await ctx.orders(req.id, true, (c) => c.exchangeStatus());
      const now = Date.now();
      const next = new Date(Math.floor(now / DAY_MS) * DAY_MS + DAY_MS).toISOString();
      return {
        timestamp: new Date(now).toISOString(),
        is_open: status.session === 'open' && !status.marketHalted,
        next_open: next,
        next_close: next,
      };
    },
  );

  app.get<{ Querystring: { status?: string; asset_class?: string; exchange?: string } }>(
    '/v2/assets',
    route({
      tags: ['assets'],
      summary: 'List assets',
      querystring: s.assetsQuery,
      response: { 200: s.assets },
    }),
    async (req) => {
      const { status, exchange } = req.query;
      if (status === 'inactive' || (exchange !== undefined && exchange !== '')) return [];
      return (await ctx.quotes.instruments(req.id)).map(alpacaAsset);
    },
  );

  app.get<{ Params: { symbol_or_asset_id: string } }>(
    '/v2/assets/:symbol_or_asset_id',
    route({
      tags: ['assets'],
      summary: 'Get an asset by symbol or asset id',
      params: s.assetParams,
      querystring: s.actingQuery,
      response: { 200: s.asset },
    }),
    async (req) => {
      const key = req.params.symbol_or_asset_id;
      const instruments = await ctx.quotes.instruments(req.id);
      const found = instruments.find((i) => i.symbol === key || assetUuid(i.symbol) === key.toLowerCase());
      if (!found) throw notFound(`asset not found for ${key.slice(0, 64)}`);
      return alpacaAsset(found);
    },
  );
}

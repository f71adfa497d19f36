/**
 * A shard node's internal HTTP door (issue 11): what an account's risk shard does — money and
 * shares in and out, orders placed, cancelled and replaced — and the matching side's
 * administration. Behind the internal token like every service route; a standby answers 503
 * not-leader (nothing executed), an account of another shard 421 naming its shard.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EngineEvent, NewOrderCommand, ReplaceCommand } from '../../../domain/exchange.ts';
import type { RiskCommand } from '../../../engine/shards/risk-shard.ts';
import { OrdersApiError, problem, rejection } from '../problems.ts';
import { installOrdersValidation } from '../routes.ts';
import { requireLeading, requireMine, VERDICT_WAIT_MS } from './guards.ts';
import type { ShardNodeService } from './node-service.ts';
import * as s from './schemas.ts';

export const SHARD_PREFIX = '/internal/orders-shard';

type Req<P = unknown, B = unknown> = FastifyRequest<{ Params: P; Body: B }>;
type AccountP = { account: string };
type OrderP = { account: string; id: number };

export function shardRoutes(node: ShardNodeService) {
  const layout = node.state().layout;
  return async function plugin(app: FastifyInstance): Promise<void> {
    installOrdersValidation(app);

    const leading = () => requireLeading(node);
    const mine = (account: string) => requireMine(node, account);
    /** Runs a risk command; a refusal is the engine's 422 (or 404 for an unknown order). */
    const run = async (command: RiskCommand, orderId?: number, key?: string) => {
      leading();
      if ('account' in command) mine(command.account);
      const events = await node.submit(command, key);
      const refused = events.find(
        (e): e is Extract<EngineEvent, { type: 'rejected' }> => e.type === 'rejected',
      );
      if (refused) throw rejection(refused.reason, orderId ?? refused.id);
      return events;
    };

    app.post(
      '/accounts/:account/deposits',
      { schema: { params: s.accountParams, body: s.amountBody } },
      async (req: Req<AccountP, { amount: number }>, reply) => {
        await run({ type: 'deposit', ts: 0, account: req.params.account, amount: req.body.amount });
        return reply.code(201).send(accountView(node, req.params.account));
      },
    );
    app.post(
      '/accounts/:account/withdrawals',
      { schema: { params: s.accountParams, body: s.amountBody } },
      async (req: Req<AccountP, { amount: number }>, reply) => {
        await run({ type: 'withdraw', ts: 0, account: req.params.account, amount: req.body.amount });
        return reply.code(201).send(accountView(node, req.params.account));
      },
    );
    app.post(
      '/accounts/:account/share-transfers',
      { schema: { params: s.accountParams, body: s.sharesBody } },
      async (req: Req<AccountP, { symbol: string; qty: number; cost: number }>, reply) => {
        await run({ type: 'transfer_shares', ts: 0, account: req.params.account, ...req.body });
        return reply.code(201).send(accountView(node, req.params.account));
      },
    );
    app.post(
      '/accounts/:account/orders',
      { schema: { params: s.accountParams, body: s.orderBody, querystring: s.orderQuery } },
      async (
        req: FastifyRequest<{ Params: AccountP; Body: s.OrderBody; Querystring: { wait?: boolean } }>,
        reply,
      ) => {
        const b = req.body;
        const order: NewOrderCommand = {
          type: 'new_order',
          ts: 0,
          id: 0, // the node numbers it as it journals it
          account: req.params.account,
          symbol: b.symbol,
          side: b.side,
          orderType: b.type,
          tif: b.time_in_force,
          qty: b.qty,
          ...(b.limit_price !== undefined && { price: b.limit_price }),
          ...(b.stop_price !== undefined && { stopPrice: b.stop_price }),
        };
        const events = await run(order, undefined, b.client_order_id);
        const held = events.find((e) => e.type === 'held')!;
        const answer = { ...held, client_order_id: b.client_order_id ?? null };
        const status = events.replayed ? 200 : 201;
        if (req.query.wait !== true) return reply.code(status).send(answer);
        // ?wait=true: also the matching shard's verdict (a hop and two commits later)
        const verdict = await node.verdict(held.id, VERDICT_WAIT_MS);
        if (verdict === null) return reply.code(202).send(answer);
        if ('rejected' in verdict) throw rejection(verdict.rejected, held.id);
        return reply.code(status).send({ ...answer, order: verdict });
      },
    );
    app.delete(
      '/accounts/:account/orders/:id',
      { schema: { params: s.orderParams } },
      async (req: Req<OrderP>, reply) => {
        await run({ type: 'cancel', ts: 0, id: req.params.id, account: req.params.account }, req.params.id);
        return reply.code(202).send({ id: req.params.id, status: 'pending_cancel' });
      },
    );
    app.patch(
      '/accounts/:account/orders/:id',
      { schema: { params: s.orderParams, body: s.replaceBody } },
      async (req: Req<OrderP, { qty?: number; limit_price?: number; stop_price?: number }>, reply) => {
        const b = req.body;
        const command: ReplaceCommand = {
          type: 'replace',
          ts: 0,
          id: req.params.id,
          account: req.params.account,
          ...(b.qty !== undefined && { qty: b.qty }),
          ...(b.limit_price !== undefined && { price: b.limit_price }),
          ...(b.stop_price !== undefined && { stopPrice: b.stop_price }),
        };
        await run(command, req.params.id);
        return reply.code(202).send({ id: req.params.id, status: 'pending_replace' });
      },
    );
    app.get('/accounts/:account', { schema: { params: s.accountParams } }, async (req: Req<AccountP>) => {
      mine(req.params.account);
      const view = accountView(node, req.params.account);
      if (view === null) throw new OrdersApiError(problem(404, 'account-not-found', 'Account not found'));
      return view;
    });
    app.post(
      '/instruments',
      { schema: { body: s.instrumentBody } },
      async (req: Req<unknown, s.InstrumentBody>, reply) => {
        leading();
        const b = req.body;
        const step = await node.admin({
          type: 'add_instrument',
          ts: 0,
          spec: {
            symbol: b.symbol,
            tickSize: b.tick_size,
            lotSize: b.lot_size,
            minQty: b.min_qty,
            maxQty: b.max_qty,
            priceBandBps: b.price_band_bps,
            collarBps: b.collar_bps,
            referencePrice: b.reference_price,
          },
        });
        const refused = [...step.events, ...step.market].find((e) => e.type === 'rejected');
        if (refused && refused.type === 'rejected') throw rejection(refused.reason);
        return reply.code(201).send({ symbol: b.symbol });
      },
    );
    app.post(
      '/session',
      { schema: { body: s.sessionBody } },
      async (req: Req<unknown, { state: 'pre_open' | 'open' | 'closed' }>) => {
        leading();
        await node.admin({ type: 'session', ts: 0, state: req.body.state });
        return { state: req.body.state };
      },
    );
    app.get('/status', async () => ({
      shard: node.shard,
      shards: layout.riskShards,
      role: node.role(),
      seq: node.seq(),
      unpublished: node.unpublished(),
      accounts: node.state().risk.accounts.size,
      open_orders: node.state().risk.orders.size,
    }));
  };
}

/** What the account's risk shard knows: free here, on its way, and kept at each matching shard. */
function accountView(node: ShardNodeService, id: string) {
  const a = node.state().risk.accounts.get(id);
  if (a === undefined) return null;
  const kept = [...a.kept].map(([shard, k]) => ({ shard, cash: k.cash, shares: k.shares }));
  const total = a.cash + a.pendingCash + kept.reduce((sum, k) => sum + k.cash, 0);
  return {
    account: id,
    cash: total,
    available: a.cash,
    pending: a.pendingCash,
    kept,
    positions: [...a.positions].map(([symbol, p]) => ({ symbol, qty: p.qty, cost: p.cost })),
    open_orders: [...node.state().risk.orders.values()]
      .filter((o) => o.account === id)
      .map((o) => ({ id: o.id, symbol: o.symbol, ...o.view })),
  };
}

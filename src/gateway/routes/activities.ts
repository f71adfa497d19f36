/**
 * /v2/account/activities: fills (FILL) and cash deposits / withdrawals (CSD / CSW), newest first
 * unless direction=asc, merged from the orders service's executions and cash movements. Paged with
 * page_token (the last activity id of the previous page). A request reads at most
 * MAX_SCAN_PAGES pages of each source.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CashMovement, Execution, Order, Page, PageQuery } from '../../services/orders/client.ts';
import { cashActivity, fillActivity } from '../alpaca/mapping.ts';
import * as s from '../alpaca/schemas.ts';
import { accountOf, type GatewayContext } from '../context.ts';
import { invalidField } from '../problems.ts';
import { route } from './common.ts';

type ActivityType = (typeof s.ACTIVITY_TYPES)[number];

interface ActivitiesQuery {
  activity_types?: string;
  activity_type?: ActivityType;
  date?: string;
  until?: string;
  after?: string;
  direction: 'asc' | 'desc';
  page_size: number;
  page_token?: string;
}

const MAX_SCAN_PAGES = 10;
const DAY_MS = 86_400_000;
const KNOWN = new Set<string>(s.ACTIVITY_TYPES);

function typesOf(q: ActivitiesQuery, path: ActivityType | undefined): Set<ActivityType> {
  if (path) return new Set([path]);
  if (q.activity_type) return new Set([q.activity_type]);
  if (q.activity_types === undefined) return new Set(s.ACTIVITY_TYPES);
  const list = q.activity_types.split(',');
  const bad = list.find((t) => !KNOWN.has(t));
  if (bad !== undefined) {
    throw invalidField(
      'querystring',
      'activity_types',
      `${JSON.stringify(bad.slice(0, 16))} is not one of FILL, CSD, CSW`,
    );
  }
  return new Set(list as ActivityType[]);
}

/** Reads pages newest first until an item is at or before `after` (or the pages run out). */
async function scan<T extends { ts: number }>(
  read: (q: PageQuery) => Promise<Page<T>>,
  after: number | undefined,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_SCAN_PAGES; page++) {
    const res = await read({ limit: 500, ...(cursor !== undefined && { cursor }) });
    out.push(...res.items);
    const last = res.items[res.items.length - 1];
    if (res.nextCursor === null || (after !== undefined && last !== undefined && last.ts <= after)) break;
    cursor = res.nextCursor;
  }
  return out;
}

async function activities(ctx: GatewayContext, req: FastifyRequest, q: ActivitiesQuery, path?: ActivityType) {
  const types = typesOf(q, path);
  const account = await accountOf(ctx, req);
  let after = q.after === undefined ? undefined : Date.parse(q.after);
  let until = q.until === undefined ? undefined : Date.parse(q.until);
  if (q.date !== undefined) {
    const day = Date.parse(`${q.date}T00:00:00Z`);
    after = day - 1;
    until = day + DAY_MS - 1;
  }
  const [fills, cash] = await Promise.all([
    types.has('FILL')
      ? scan<Execution>((p) => ctx.orders(req.id, true, (c) => c.accountTrades(account, p)), after)
      : Promise.resolve([]),
    types.has('CSD') || types.has('CSW')
      ? scan<CashMovement>((p) => ctx.orders(req.id, true, (c) => c.cashMovements(account, p)), after)
      : Promise.resolve([]),
  ]);

  // shares an order had filled right after each fill: its total now, less the newer fills
  const newerFilled = new Map<number, number>();
  const cumAfter = new Map<Execution, number>();
  const orderIds = new Set(fills.map((f) => f.orderId));
  const orders = new Map<number, Order>();
  await Promise.all(
    [...orderIds].slice(0, 500).map(async (id) => {
      orders.set(id, await ctx.orders(req.id, true, (c) => c.getOrder(account, id)));
    }),
  );
  for (const f of fills) {
    const order = orders.get(f.orderId);
    const newer = newerFilled.get(f.orderId) ?? 0;
    cumAfter.set(f, (order?.filledQty ?? f.qty) - newer);
    newerFilled.set(f.orderId, newer + f.qty);
  }

  const inWindow = (ts: number) =>
    (after === undefined || ts > after) && (until === undefined || ts <= until);
  type Item = { ts: number; body: { id: string } };
  const items: Item[] = [];
  for (const f of fills) {
    if (!inWindow(f.ts)) continue;
    const order = orders.get(f.orderId);
    const body = fillActivity(account, f, {
      orderQty: order?.qty ?? f.qty,
      cumQty: cumAfter.get(f) ?? f.qty,
    });
    items.push({ ts: f.ts, body });
  }
  for (const m of cash) {
    if (!inWindow(m.ts)) continue;
    const body = cashActivity(account, m);
    if (types.has(body.activity_type)) items.push({ ts: m.ts, body });
  }
  items.sort((a, b) => b.ts - a.ts || (a.body.id < b.body.id ? 1 : a.body.id > b.body.id ? -1 : 0));
  if (q.direction === 'asc') items.reverse();
  let start = 0;
  if (q.page_token !== undefined) {
    const at = items.findIndex((i) => i.body.id === q.page_token);
    start = at < 0 ? items.length : at + 1;
  }
  return items.slice(start, start + q.page_size).map((i) => i.body);
}

export async function activityRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const tags = ['account'];
  app.get<{ Querystring: ActivitiesQuery }>(
    '/v2/account/activities',
    route({
      tags,
      summary: 'List account activities',
      description: 'FILL (executions), CSD (cash deposits) and CSW (cash withdrawals).',
      querystring: s.activitiesQuery,
      response: { 200: s.activities },
    }),
    (req) => activities(ctx, req, req.query),
  );
  app.get<{ Params: { activity_type: ActivityType }; Querystring: ActivitiesQuery }>(
    '/v2/account/activities/:activity_type',
    route({
      tags,
      summary: 'List account activities of one type',
      params: s.activityTypeParams,
      querystring: s.activitiesQuery,
      response: { 200: s.activities },
    }),
    (req) => activities(ctx, req, req.query, req.params.activity_type),
  );
}

/**
 * Brokerage report: per client of a brokerage (its investors, from the users service) the
 * period's trades, traded notional, commissions, realised P&L (FIFO), exposure (positions marked
 * at the end of the period) and cash; the brokerage's totals; the largest positions across
 * clients. Clients are read in pages of the users service and their figures in one SQL
 * aggregate per page.
 *
 * Commissions: the brokerage earns `commissionBps` of each client's traded notional when
 * configured (floor per client and period, in cents); otherwise its commission is what its
 * clients paid in exchange fees (the exchange's fee schedule is the brokerage's price list).
 */
import type { Queryable } from '../../platform/db/types.ts';
import type { UsersClient, UserView } from '../users/client.ts';
import type { Cell } from './csv.ts';
import { lotCost } from './fifo.ts';
import { money, type Period } from './format.ts';
import type { PdfSpec } from './pdf.ts';
import { ledgerOf } from './positions.ts';
import { cashSummary, clientAggregates, marks } from './queries.ts';

export interface BrokerageOptions {
  commissionBps: number | null;
  largest: number;
}

export interface ClientFigures {
  userId: string;
  username: string;
  displayName: string | null;
  trades: number;
  volume: number;
  commissions: number;
  realised: number;
  exposure: number;
  unrealised: number;
  cash: number;
  positions: { symbol: string; qty: number; mark: number | null; value: number }[];
}

async function figuresOf(
  db: Queryable,
  user: UserView,
  agg: { trades: number; volume: number; fees: number } | undefined,
  period: Period,
  opts: BrokerageOptions,
): Promise<ClientFigures> {
  const end = period.end.toISOString();
  let realised = 0;
  const ledger = await ledgerOf(db, user.id, end, (t) => {
    if (t.at >= period.start.getTime()) realised += t.pnl;
  });
  const held = [...ledger.books.entries()]
    .map(([symbol, b]) => ({
      symbol,
      qty: b.lots.reduce((s, l) => s + l.qty, 0),
      cost: b.lots.reduce((s, l) => s + lotCost(l), 0),
    }))
    .filter((p) => p.qty > 0);
  const m = await marks(
    db,
    held.map((p) => p.symbol),
    end,
  );
  const positions = held.map((p) => {
    const mark = m.get(p.symbol) ?? null;
    return { symbol: p.symbol, qty: p.qty, mark, value: mark === null ? 0 : mark * p.qty, cost: p.cost };
  });
  const cash = await cashSummary(db, user.id, period.start.toISOString(), end);
  const volume = agg?.volume ?? 0;
  return {
    userId: user.id,
    username: user.username,
    displayName: user.display_name,
    trades: agg?.trades ?? 0,
    volume,
    commissions:
      opts.commissionBps === null ? (agg?.fees ?? 0) : Math.floor((volume * opts.commissionBps) / 10_000),
    realised,
    exposure: positions.reduce((s, p) => s + p.value, 0),
    unrealised: positions.reduce((s, p) => s + (p.mark === null ? 0 : p.value - p.cost), 0),
    cash: cash.closing,
    positions: positions.map(({ cost: _cost, ...p }) => p),
  };
}

export async function clientFigures(
  db: Queryable,
  user: UserView,
  period: Period,
  opts: BrokerageOptions,
): Promise<ClientFigures> {
  const aggs = await clientAggregates(db, [user.id], period.start.toISOString(), period.end.toISOString());
  return figuresOf(db, user, aggs.get(user.id), period, opts);
}

export async function brokerageReport(
  db: Queryable,
  users: UsersClient,
  brokerageId: string,
  period: Period,
  opts: BrokerageOptions,
) {
  const clients: ClientFigures[] = [];
  let cursor: string | undefined;
  do {
    const page = await users.listUsers({
      brokerageId,
      role: 'investor',
      limit: 200,
      ...(cursor ? { cursor } : {}),
    });
    const ids = page.users.map((u) => u.id);
    const aggs = ids.length
      ? await clientAggregates(db, ids, period.start.toISOString(), period.end.toISOString())
      : new Map();
    for (const u of page.users) clients.push(await figuresOf(db, u, aggs.get(u.id), period, opts));
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  clients.sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  const largest = clients
    .flatMap((c) => c.positions.map((p) => ({ userId: c.userId, username: c.username, ...p })))
    .sort((a, b) => b.value - a.value || (a.username < b.username ? -1 : 1))
    .slice(0, opts.largest);
  const sum = (f: (c: ClientFigures) => number) => clients.reduce((s, c) => s + f(c), 0);
  return {
    brokerageId,
    period,
    clients,
    largest,
    totals: {
      clients: clients.length,
      trades: sum((c) => c.trades),
      volume: sum((c) => c.volume),
      commissions: sum((c) => c.commissions),
      realised: sum((c) => c.realised),
      exposure: sum((c) => c.exposure),
      cash: sum((c) => c.cash),
    },
    commissionBasis:
      opts.commissionBps === null ? 'exchange_fees_paid' : `${opts.commissionBps}_bps_of_volume`,
  };
}

export type BrokerageReport = Awaited<ReturnType<typeof brokerageReport>>;

export function clientJson(c: ClientFigures) {
  return {
    user_id: c.userId,
    username: c.username,
    display_name: c.displayName,
    trades: c.trades,
    volume: money(c.volume),
    commissions: money(c.commissions),
    realised_pnl: money(c.realised),
    unrealised_pnl: money(c.unrealised),
    exposure: money(c.exposure),
    cash: money(c.cash),
    positions: c.positions.map((p) => ({
      symbol: p.symbol,
      qty: p.qty,
      mark: p.mark === null ? null : money(p.mark),
      market_value: money(p.value),
    })),
  };
}

export function brokerageJson(r: BrokerageReport) {
  return {
    brokerage_id: r.brokerageId,
    from: r.period.from,
    to: r.period.to,
    commission_basis: r.commissionBasis,
    totals: {
      clients: r.totals.clients,
      trades: r.totals.trades,
      volume: money(r.totals.volume),
      commissions: money(r.totals.commissions),
      realised_pnl: money(r.totals.realised),
      exposure: money(r.totals.exposure),
      cash: money(r.totals.cash),
    },
    clients: r.clients.map(clientJson),
    largest_positions: r.largest.map((p) => ({
      user_id: p.userId,
      username: p.username,
      symbol: p.symbol,
      qty: p.qty,
      market_value: money(p.value),
    })),
  };
}

export const BROKERAGE_CSV_HEADER = [
  'user_id',
  'username',
  'trades',
  'volume',
  'commissions',
  'realised_pnl',
  'unrealised_pnl',
  'exposure',
  'cash',
];

export function* brokerageCsvRows(r: BrokerageReport): Generator<Cell[]> {
  for (const c of r.clients.map(clientJson)) {
    yield [
      c.user_id,
      c.username,
      c.trades,
      c.volume,
      c.commissions,
      c.realised_pnl,
      c.unrealised_pnl,
      c.exposure,
      c.cash,
    ];
  }
}

export function brokeragePdf(r: BrokerageReport): PdfSpec {
  const j = brokerageJson(r);
  return {
    title: 'Brokerage report',
    subtitle: `Brokerage ${j.brokerage_id} · ${j.from} to ${j.to} (UTC, inclusive) · commissions: ${j.commission_basis}`,
    summary: [
      ['Clients', String(j.totals.clients)],
      ['Trades', String(j.totals.trades)],
      ['Volume', j.totals.volume],
      ['Commissions', j.totals.commissions],
      ['Realised P&L', j.totals.realised_pnl],
      ['Exposure', j.totals.exposure],
      ['Cash', j.totals.cash],
    ],
    charts: [
      {
        title: 'Exposure by client (USD)',
        points: r.clients.map((c) => ({ label: c.username, value: c.exposure / 100 })),
      },
    ],
    tables: [
      {
        title: 'Clients',
        columns: [
          { name: 'Client', width: 90 },
          { name: 'Trades', width: 45, align: 'right' },
          { name: 'Volume', width: 75, align: 'right' },
          { name: 'Commissions', width: 65, align: 'right' },
          { name: 'Realised', width: 65, align: 'right' },
          { name: 'Exposure', width: 75, align: 'right' },
          { name: 'Cash', width: 90, align: 'right' },
        ],
        rows: j.clients.map((c) => [
          c.username,
          String(c.trades),
          c.volume,
          c.commissions,
          c.realised_pnl,
          c.exposure,
          c.cash,
        ]),
      },
      {
        title: 'Largest positions',
        columns: [
          { name: 'Client', width: 120 },
          { name: 'Symbol', width: 70 },
          { name: 'Qty', width: 70, align: 'right' },
          { name: 'Market value', width: 100, align: 'right' },
        ],
        rows: j.largest_positions.map((p) => [p.username, p.symbol, String(p.qty), p.market_value]),
      },
    ],
  };
}

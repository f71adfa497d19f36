/**
 * Positions with FIFO lots, realised and unrealised P&L. The account's fills and share
 * transfers are replayed oldest first into a FIFO ledger (streamed: memory holds the open lots,
 * not the history). Mark = last trade on our exchange, else the latest candle close.
 */
import type { Queryable } from '../../platform/db/types.ts';
import type { Cell } from './csv.ts';
import * as fmt from './display.ts';
import { type ClosedTrade, FifoLedger, lotCost } from './fifo.ts';
import { money } from './format.ts';
import type { PdfSpec } from './pdf.ts';
import { type FillRow, fills, marks, type ShareMovementRow, shareMovements } from './queries.ts';

type Event = { kind: 'fill'; row: FillRow } | { kind: 'transfer'; row: ShareMovementRow };

async function* merged(db: Queryable, account: string, end: string): AsyncGenerator<Event> {
  const a = fills(db, account, null, end);
  const b = shareMovements(db, account, end);
  let x = await a.next();
  let y = await b.next();
  while (!x.done || !y.done) {
    // a transfer before a fill at the same instant: it was a separate, earlier command
    if (!y.done && (x.done || y.value.ts.getTime() <= x.value.ts.getTime())) {
      yield { kind: 'transfer', row: y.value };
      y = await b.next();
    } else if (!x.done) {
      yield { kind: 'fill', row: x.value };
      x = await a.next();
    }
  }
}

/** Replays the account up to `end` into a FIFO ledger; onClose sees every sale. */
export async function ledgerOf(
  db: Queryable,
  account: string,
  end: string,
  onClose?: (t: ClosedTrade, fill: FillRow) => void,
): Promise<FifoLedger> {
  const ledger = new FifoLedger();
  for await (const e of merged(db, account, end)) {
    if (e.kind === 'transfer') {
      const m = e.row;
      if (m.qty > 0) ledger.transferIn(m.symbol, m.ts.getTime(), m.qty, m.cost);
      else ledger.transferOut(m.symbol, -m.qty);
    } else {
      const f = e.row;
      if (f.side === 'buy') ledger.buy(f.symbol, f.ts.getTime(), f.qty, f.price, f.fee);
      else {
        // not inside onClose?.(…): its argument would not be evaluated without a callback
        const closed = ledger.sell(f.symbol, f.ts.getTime(), f.qty, f.price, f.fee);
        onClose?.(closed, f);
      }
    }
  }
  return ledger;
}

export interface PositionLine {
  symbol: string;
  qty: number;
  cost: number;
  mark: number | null;
  marketValue: number | null;
  realised: number;
  unrealised: number | null;
  lots: { openedAt: number; qty: number; price: number; cost: number }[];
}

export async function positionLines(db: Queryable, account: string, at: Date): Promise<PositionLine[]> {
  const end = at.toISOString();
  const ledger = await ledgerOf(db, account, end);
  const symbols = [...ledger.books.keys()].sort();
  const m = await marks(db, symbols, end);
  return symbols.map((symbol) => {
    const book = ledger.books.get(symbol)!;
    const qty = book.lots.reduce((s, l) => s + l.qty, 0);
    const cost = book.lots.reduce((s, l) => s + lotCost(l), 0);
    const mark = m.get(symbol) ?? null;
    const marketValue = mark === null ? null : mark * qty;
    return {
      symbol,
      qty,
      cost,
      mark,
      marketValue,
      realised: book.realised,
      unrealised: marketValue === null ? null : marketValue - cost,
      lots: book.lots.map((l) => ({ openedAt: l.openedAt, qty: l.qty, price: l.price, cost: lotCost(l) })),
    };
  });
}

export function positionsJson(account: string, at: Date, lines: PositionLine[]) {
  const sum = (f: (l: PositionLine) => number | null) => lines.reduce((s, l) => s + (f(l) ?? 0), 0);
  return {
    account,
    as_of: at.toISOString(),
    method: 'fifo',
    positions: lines.map((l) => ({
      symbol: l.symbol,
      qty: l.qty,
      cost: money(l.cost),
      average_cost: l.qty > 0 ? (l.cost / l.qty / 100).toFixed(4) : null,
      mark: l.mark === null ? null : money(l.mark),
      market_value: l.marketValue === null ? null : money(l.marketValue),
      realised_pnl: money(l.realised),
      unrealised_pnl: l.unrealised === null ? null : money(l.unrealised),
      lots: l.lots.map((lot) => ({
        opened_at: new Date(lot.openedAt).toISOString(),
        qty: lot.qty,
        price: money(lot.price),
        cost: money(lot.cost),
      })),
    })),
    totals: {
      cost: money(sum((l) => l.cost)),
      market_value: money(sum((l) => l.marketValue)),
      realised_pnl: money(sum((l) => l.realised)),
      unrealised_pnl: money(sum((l) => l.unrealised)),
    },
  };
}

export const POSITIONS_CSV_HEADER = [
  'symbol',
  'qty',
  'cost',
  'mark',
  'market_value',
  'realised_pnl',
  'unrealised_pnl',
  'lot_opened_at',
  'lot_qty',
  'lot_price',
  'lot_cost',
];

/** One row per position (lot columns empty), then one per lot. */
export function* positionsCsvRows(lines: PositionLine[]): Generator<Cell[]> {
  for (const l of lines) {
    yield [
      l.symbol,
      l.qty,
      money(l.cost),
      l.mark === null ? '' : money(l.mark),
      l.marketValue === null ? '' : money(l.marketValue),
      money(l.realised),
      l.unrealised === null ? '' : money(l.unrealised),
      '',
      '',
      '',
      '',
    ];
    for (const lot of l.lots) {
      yield [
        l.symbol,
        '',
        '',
        '',
        '',
        '',
        '',
        new Date(lot.openedAt).toISOString(),
        lot.qty,
        money(lot.price),
        money(lot.cost),
      ];
    }
  }
}

export function positionsPdf(account: string, at: Date, lines: PositionLine[]): PdfSpec {
  const j = positionsJson(account, at, lines);
  return {
    title: 'Positions and P&L (FIFO)',
    subtitle: `Account ${account} · as of ${j.as_of}`,
    summary: [
      ['Cost basis', fmt.usdOf(j.totals.cost)],
      ['Market value', fmt.usdOf(j.totals.market_value)],
      ['Realised P&L', fmt.usdOf(j.totals.realised_pnl)],
      ['Unrealised P&L', fmt.usdOf(j.totals.unrealised_pnl)],
    ],
    charts: [
      {
        title: 'Market value by position (USD)',
        points: lines
          .filter((l) => l.qty > 0)
          .map((l) => ({ label: l.symbol, value: (l.marketValue ?? 0) / 100 })),
      },
    ],
    tables: [
      {
        title: 'Positions',
        columns: [
          { name: 'Symbol', width: 60 },
          { name: 'Qty', width: 55, align: 'right' },
          { name: 'Cost', width: 75, align: 'right' },
          { name: 'Mark', width: 60, align: 'right' },
          { name: 'Value', width: 80, align: 'right' },
          { name: 'Realised', width: 80, align: 'right' },
          { name: 'Unrealised', width: 80, align: 'right' },
        ],
        rows: j.positions.map((p) => [
          p.symbol,
          String(p.qty),
          p.cost,
          p.mark ?? '',
          p.market_value ?? '',
          p.realised_pnl,
          p.unrealised_pnl ?? '',
        ]),
      },
      {
        title: 'Open lots',
        columns: [
          { name: 'Symbol', width: 60 },
          { name: 'Opened', width: 150 },
          { name: 'Qty', width: 60, align: 'right' },
          { name: 'Price', width: 70, align: 'right' },
          { name: 'Cost', width: 90, align: 'right' },
        ],
        rows: j.positions.flatMap((p) =>
          p.lots.map((l) => [p.symbol, l.opened_at, String(l.qty), l.price, l.cost]),
        ),
      },
    ],
  };
}

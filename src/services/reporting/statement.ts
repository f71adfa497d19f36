/**
 * Account statement: opening cash, every deposit and withdrawal, every trade, closing cash,
 * opening and closing positions, totals. Summary figures are SQL aggregates; the lists stream in
 * keyset pages, in JSON as in CSV and PDF, so a statement of any length is never held in memory.
 */
import { Readable } from 'node:stream';
import type { Queryable } from '../../platform/db/types.ts';
import type { Cell } from './csv.ts';
import * as fmt from './display.ts';
import { money, type Period } from './format.ts';
import type { PdfSpec } from './pdf.ts';
import {
  type CashSummary,
  cashMovements,
  cashSummary,
  dailyEquity,
  fills,
  type HoldingRow,
  holdings,
  marks,
  shareMovements,
} from './queries.ts';

export interface StatementHead {
  account: string;
  period: Period;
  cash: CashSummary;
  positions: HoldingRow[];
  closingMarks: Map<string, number | null>;
}

export async function statementHead(db: Queryable, account: string, period: Period): Promise<StatementHead> {
  const start = period.start.toISOString();
  const end = period.end.toISOString();
  const cash = await cashSummary(db, account, start, end);
  const positions = await holdings(db, account, start, end);
  const closingMarks = await marks(
    db,
    positions.filter((p) => p.closing !== 0).map((p) => p.symbol),
    end,
  );
  return { account, period, cash, positions, closingMarks };
}

export function totalsOf(c: CashSummary) {
  const fees = c.buyFees + c.sellFees;
  const computed = c.opening + c.deposits - c.withdrawals - c.buys - fees + c.sells;
  return {
    deposits: money(c.deposits),
    withdrawals: money(c.withdrawals),
    buys: money(c.buys),
    sells: money(c.sells),
    fees: money(fees),
    net_change: money(c.closing - c.opening),
    trades: c.trades,
    cash_movements: c.movements,
    /** opening + deposits − withdrawals − buys − fees + sells equals closing */
    reconciled: computed === c.closing,
  };
}

function positionsJson(h: StatementHead) {
  const opening = h.positions
    .filter((p) => p.opening !== 0)
    .map((p) => ({ symbol: p.symbol, qty: p.opening }));
  const closing = h.positions
    .filter((p) => p.closing !== 0)
    .map((p) => {
      const mark = h.closingMarks.get(p.symbol) ?? null;
      return {
        symbol: p.symbol,
        qty: p.closing,
        mark: mark === null ? null : money(mark),
        market_value: mark === null ? null : money(mark * p.closing),
      };
    });
  return { opening, closing };
}

export function headJson(h: StatementHead) {
  const positions = positionsJson(h);
  return {
    account: h.account,
    from: h.period.from,
    to: h.period.to,
    currency: 'USD',
    opening_cash: money(h.cash.opening),
    closing_cash: money(h.cash.closing),
    totals: totalsOf(h.cash),
    opening_positions: positions.opening,
    closing_positions: positions.closing,
  };
}

export interface MovementJson {
  seq: number;
  time: string;
  kind: 'deposit' | 'withdraw';
  amount: string;
}

export interface TradeJson {
  trade_id: number;
  time: string;
  symbol: string;
  side: 'buy' | 'sell';
  qty: number;
  price: string;
  fee: string;
  /** signed cash effect: a buy −(price × qty + fee), a sell price × qty − fee */
  net_amount: string;
}

async function* movementsOf(db: Queryable, h: StatementHead): AsyncGenerator<MovementJson> {
  for await (const m of cashMovements(
    db,
    h.account,
    h.period.start.toISOString(),
    h.period.end.toISOString(),
  )) {
    yield { seq: m.seq, time: m.ts.toISOString(), kind: m.kind, amount: money(m.amount) };
  }
}

export interface ShareTransferJson {
  seq: number;
  time: string;
  symbol: string;
  /** shares in (> 0) or out (< 0) */
  qty: number;
  cost: string;
}

async function* transfersOf(db: Queryable, h: StatementHead): AsyncGenerator<ShareTransferJson> {
  for await (const m of shareMovements(
    db,
    h.account,
    h.period.end.toISOString(),
    h.period.start.toISOString(),
  )) {
    yield { seq: m.seq, time: m.ts.toISOString(), symbol: m.symbol, qty: m.qty, cost: money(m.cost) };
  }
}

async function* tradesOf(db: Queryable, h: StatementHead): AsyncGenerator<TradeJson> {
  for await (const f of fills(db, h.account, h.period.start.toISOString(), h.period.end.toISOString())) {
    const notional = f.price * f.qty;
    yield {
      trade_id: f.id,
      time: f.ts.toISOString(),
      symbol: f.symbol,
      side: f.side,
      qty: f.qty,
      price: money(f.price),
      fee: money(f.fee),
      net_amount: money(f.side === 'buy' ? -(notional + f.fee) : notional - f.fee),
    };
  }
}

/** The whole statement as one JSON document, written as its lists are read. */
export function statementJson(db: Queryable, h: StatementHead): Readable {
  async function* chunks(): AsyncGenerator<string> {
    const head = JSON.stringify(headJson(h));
    yield `${head.slice(0, -1)},"cash_movements":[`;
    let first = true;
    for await (const m of movementsOf(db, h)) {
      yield (first ? '' : ',') + JSON.stringify(m);
      first = false;
    }
    yield '],"trades":[';
    first = true;
    for await (const t of tradesOf(db, h)) {
      yield (first ? '' : ',') + JSON.stringify(t);
      first = false;
    }
    yield '],"share_transfers":[';
    first = true;
    for await (const t of transfersOf(db, h)) {
      yield (first ? '' : ',') + JSON.stringify(t);
      first = false;
    }
    yield ']}';
  }
  return Readable.from(chunks(), { objectMode: false });
}

export const STATEMENT_CSV_HEADER = [
  'record',
  'time',
  'id',
  'symbol',
  'side',
  'qty',
  'price',
  'fee',
  'amount',
] as const;

/** One CSV for the whole statement; `record` says what a row is. */
export async function* statementCsvRows(db: Queryable, h: StatementHead): AsyncGenerator<Cell[]> {
  const head = headJson(h);
  yield ['opening_cash', h.period.start.toISOString(), '', '', '', '', '', '', head.opening_cash];
  for (const p of head.opening_positions) yield ['opening_position', '', '', p.symbol, '', p.qty, '', '', ''];
  for await (const m of movementsOf(db, h)) yield [m.kind, m.time, m.seq, '', '', '', '', '', m.amount];
  for await (const t of tradesOf(db, h)) {
    yield ['trade', t.time, t.trade_id, t.symbol, t.side, t.qty, t.price, t.fee, t.net_amount];
  }
  for await (const s of transfersOf(db, h))
    yield ['share_transfer', s.time, s.seq, s.symbol, '', s.qty, '', '', s.cost];
  for (const p of head.closing_positions) {
    yield ['closing_position', '', '', p.symbol, '', p.qty, p.mark, '', p.market_value];
  }
  const t = head.totals;
  for (const [k, v] of [
    ['deposits', t.deposits],
    ['withdrawals', t.withdrawals],
    ['buys', t.buys],
    ['sells', t.sells],
    ['fees', t.fees],
  ] as const) {
    yield [`total_${k}`, '', '', '', '', '', '', '', v];
  }
  yield ['closing_cash', h.period.end.toISOString(), '', '', '', '', '', '', head.closing_cash];
}

export async function statementPdf(db: Queryable, h: StatementHead): Promise<PdfSpec> {
  const head = headJson(h);
  const curve = await dailyEquity(db, h.account, h.period.from, h.period.to);
  const t = head.totals;
  return {
    title: 'Account statement',
    streamed: true,
    subtitle: `Account ${h.account} · ${fmt.date(h.period.from)} to ${fmt.date(h.period.to)} (UTC, inclusive) · USD`,
    summary: [
      ['Opening cash', fmt.usdOf(head.opening_cash)],
      ['Deposits', fmt.usdOf(t.deposits)],
      ['Withdrawals', fmt.usdOf(t.withdrawals)],
      ['Buys (notional)', fmt.usdOf(t.buys)],
      ['Sells (notional)', fmt.usdOf(t.sells)],
      ['Fees', fmt.usdOf(t.fees)],
      ['Closing cash', fmt.usdOf(head.closing_cash)],
      ['Trades', fmt.count(t.trades)],
      ['Reconciled', t.reconciled ? 'yes' : 'NO'],
    ],
    charts: [
      {
        title: 'Cash by day (end of day, USD)',
        points: curve.map((d) => ({ label: d.day, value: d.cash / 100 })),
      },
    ],
    tables: [
      {
        title: 'Opening positions',
        columns: [
          { name: 'Symbol', width: 120 },
          { name: 'Qty', width: 80, align: 'right' },
        ],
        rows: head.opening_positions.map((p) => [p.symbol, fmt.count(p.qty)]),
      },
      {
        title: 'Deposits and withdrawals',
        columns: [
          { name: 'Time', width: 150 },
          { name: 'Kind', width: 90 },
          { name: 'Amount', width: 100, align: 'right' },
        ],
        rows: (async function* () {
          for await (const m of movementsOf(db, h)) yield [fmt.dateTime(m.time), m.kind, fmt.usdOf(m.amount)];
        })(),
      },
      {
        title: 'Trades',
        columns: [
          { name: 'Time', width: 120 },
          { name: 'Symbol', width: 50 },
          { name: 'Side', width: 35 },
          { name: 'Qty', width: 50, align: 'right' },
          { name: 'Price', width: 60, align: 'right' },
          { name: 'Fee', width: 50, align: 'right' },
          { name: 'Net amount', width: 90, align: 'right' },
        ],
        rows: (async function* () {
          for await (const x of tradesOf(db, h)) {
            yield [
              `${fmt.date(x.time)} ${x.time.slice(11, 19)}`,
              x.symbol,
              x.side,
              fmt.count(x.qty),
              fmt.usdOf(x.price),
              fmt.usdOf(x.fee),
              fmt.usdOf(x.net_amount),
            ];
          }
        })(),
      },
      {
        title: 'Share transfers',
        columns: [
          { name: 'Time', width: 150 },
          { name: 'Symbol', width: 70 },
          { name: 'Qty', width: 70, align: 'right' },
          { name: 'Cost', width: 100, align: 'right' },
        ],
        rows: (async function* () {
          for await (const x of transfersOf(db, h))
            yield [fmt.dateTime(x.time), x.symbol, fmt.count(x.qty), fmt.usdOf(x.cost)];
        })(),
      },
      {
        title: 'Closing positions',
        columns: [
          { name: 'Symbol', width: 120 },
          { name: 'Qty', width: 80, align: 'right' },
          { name: 'Mark', width: 80, align: 'right' },
          { name: 'Market value', width: 100, align: 'right' },
        ],
        rows: head.closing_positions.map((p) => [
          p.symbol,
          fmt.count(p.qty),
          p.mark === null ? '' : fmt.usdOf(p.mark),
          p.market_value === null ? '' : fmt.usdOf(p.market_value),
        ]),
      },
    ],
  };
}

/**
 * Read-only SQL over the orders service's tables (and market-data's md_candles). Aggregates are
 * done in SQL; lists are read in keyset pages (never a whole table in memory). The indexes these
 * queries use are the orders migration's plus migrations/004_reporting.sql (per-account by time).
 *
 * Times are passed as ISO strings and compared as timestamptz; periods are half-open [start, end).
 */
import type { Queryable } from '../../platform/db/types.ts';

const PAGE = 1000;

export interface CashSummary {
  opening: number;
  closing: number;
  deposits: number;
  withdrawals: number;
  buys: number;
  sells: number;
  buyFees: number;
  sellFees: number;
  trades: number;
  movements: number;
}

/** Cash before start, at end, and the period's totals by kind, in one aggregate pass. */
export async function cashSummary(
  db: Queryable,
  account: string,
  start: string,
  end: string,
): Promise<CashSummary> {
  const { rows } = await db.query<Record<string, number>>(
    `WITH f AS (
       SELECT ts, CASE kind WHEN 'deposit' THEN amount ELSE 0 END AS dep, CASE kind WHEN 'withdraw' THEN amount ELSE 0 END AS wd,
              0::int8 AS buy, 0::int8 AS sell, 0::int8 AS bfee, 0::int8 AS sfee, 0 AS trade, 1 AS mov
         FROM cash_movements WHERE account = $1 AND ts < $3::timestamptz
       UNION ALL
       SELECT ts, 0, 0, price * qty, 0, buy_fee, 0, 1, 0 FROM trades WHERE buy_account = $1 AND ts < $3::timestamptz
       UNION ALL
       SELECT ts, 0, 0, 0, price * qty, 0, sell_fee, 1, 0 FROM trades WHERE sell_account = $1 AND ts < $3::timestamptz
     )
     SELECT coalesce(sum(dep - wd - buy - bfee + sell - sfee) FILTER (WHERE ts < $2::timestamptz), 0)::int8 AS opening,
            coalesce(sum(dep - wd - buy - bfee + sell - sfee), 0)::int8 AS closing,
            coalesce(sum(dep) FILTER (WHERE ts >= $2::timestamptz), 0)::int8 AS deposits,
            coalesce(sum(wd) FILTER (WHERE ts >= $2::timestamptz), 0)::int8 AS withdrawals,
            coalesce(sum(buy) FILTER (WHERE ts >= $2::timestamptz), 0)::int8 AS buys,
            coalesce(sum(sell) FILTER (WHERE ts >= $2::timestamptz), 0)::int8 AS sells,
            coalesce(sum(bfee) FILTER (WHERE ts >= $2::timestamptz), 0)::int8 AS buy_fees,
            coalesce(sum(sfee) FILTER (WHERE ts >= $2::timestamptz), 0)::int8 AS sell_fees,
            coalesce(sum(trade) FILTER (WHERE ts >= $2::timestamptz), 0)::int8 AS trades,
            coalesce(sum(mov) FILTER (WHERE ts >= $2::timestamptz), 0)::int8 AS movements
       FROM f`,
    [account, start, end],
  );
  const r = rows[0]!;
  return {
    opening: r.opening!,
    closing: r.closing!,
    deposits: r.deposits!,
    withdrawals: r.withdrawals!,
    buys: r.buys!,
    sells: r.sells!,
    buyFees: r.buy_fees!,
    sellFees: r.sell_fees!,
    trades: r.trades!,
    movements: r.movements!,
  };
}

export interface HoldingRow {
  symbol: string;
  opening: number;
  closing: number;
}

/** Shares held before start and at end, per symbol (trades and share transfers). */
export async function holdings(
  db: Queryable,
  account: string,
  start: string,
  end: string,
): Promise<HoldingRow[]> {
  const { rows } = await db.query<HoldingRow>(
    `WITH q AS (
       SELECT symbol, ts, qty AS q FROM trades WHERE buy_account = $1 AND ts < $3::timestamptz
       UNION ALL SELECT symbol, ts, -qty FROM trades WHERE sell_account = $1 AND ts < $3::timestamptz
       UNION ALL SELECT symbol, ts, qty FROM share_movements WHERE account = $1 AND ts < $3::timestamptz
     )
     SELECT symbol, coalesce(sum(q) FILTER (WHERE ts < $2::timestamptz), 0)::int8 AS opening, sum(q)::int8 AS closing
       FROM q GROUP BY symbol
     HAVING coalesce(sum(q) FILTER (WHERE ts < $2::timestamptz), 0) <> 0 OR sum(q) <> 0
     ORDER BY symbol`,
    [account, start, end],
  );
  return rows;
}

export interface CashMovementRow {
  seq: number;
  ts: Date;
  kind: 'deposit' | 'withdraw';
  amount: number;
}

/** The account's deposits and withdrawals in [start, end), oldest first, in keyset pages. */
export async function* cashMovements(
  db: Queryable,
  account: string,
  start: string,
  end: string,
): AsyncGenerator<CashMovementRow> {
  let after = 0;
  for (;;) {
    const { rows } = await db.query<CashMovementRow>(
      `SELECT seq, ts, kind, amount FROM cash_movements
        WHERE account = $1 AND ts >= $2::timestamptz AND ts < $3::timestamptz AND seq > $4
        ORDER BY seq LIMIT ${PAGE}`,
      [account, start, end, after],
    );
    yield* rows;
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.seq;
  }
}

/**
 * One keyset page of an account's fills in (ts, id, side) order. $1 account; the cursor is the
 * last (ts, id, side) read: buy rows after ($2, $3), sell rows after ($2, $4) where $4 = $3 − 1
 * when the cursor was a buy (so a self-trade's sell side at the same id still follows). Row
 * comparisons on (ts, id) are index conditions of trades_{buy,sell}_account_ts. $5 end, $6 symbol.
 */
export const FILLS_PAGE_SQL = `SELECT * FROM (
    (SELECT id, ts, symbol, 'buy' AS side, qty, price, buy_fee AS fee FROM trades
      WHERE buy_account = $1 AND (ts, id) > ($2::timestamptz, $3::int8) AND ts < $5::timestamptz
        AND ($6::text IS NULL OR symbol = $6)
      ORDER BY ts, id LIMIT ${PAGE})
    UNION ALL
    (SELECT id, ts, symbol, 'sell', qty, price, sell_fee FROM trades
      WHERE sell_account = $1 AND (ts, id) > ($2::timestamptz, $4::int8) AND ts < $5::timestamptz
        AND ($6::text IS NULL OR symbol = $6)
      ORDER BY ts, id LIMIT ${PAGE})
  ) f ORDER BY ts, id, side LIMIT ${PAGE}`;

export interface FillRow {
  id: number;
  ts: Date;
  symbol: string;
  side: 'buy' | 'sell';
  qty: number;
  price: number;
  fee: number;
}

/**
 * The account's fills in [start, end) in time order (ts, trade id, side), keyset-paged. Both
 * sides are read from their own index, so OR never defeats an index; a self-trade (same account
 * on both sides) yields two fills.
 */
export async function* fills(
  db: Queryable,
  account: string,
  start: string | null,
  end: string,
  symbol: string | null = null,
): AsyncGenerator<FillRow> {
  // before the first row: everything at or after start (trade ids are positive)
  let ts = start ?? '-infinity';
  let buyAfter = -1;
  let sellAfter = -1;
  for (;;) {
    const { rows } = await db.query<FillRow>(FILLS_PAGE_SQL, [account, ts, buyAfter, sellAfter, end, symbol]);
    yield* rows;
    if (rows.length < PAGE) return;
    const last = rows[rows.length - 1]!;
    ts = last.ts.toISOString();
    buyAfter = last.id;
    sellAfter = last.side === 'buy' ? last.id - 1 : last.id;
  }
}

export interface ShareMovementRow {
  seq: number;
  ts: Date;
  symbol: string;
  qty: number;
  cost: number;
}

export async function* shareMovements(
  db: Queryable,
  account: string,
  end: string,
  start: string | null = null,
): AsyncGenerator<ShareMovementRow> {
  let after = 0;
  for (;;) {
    const { rows } = await db.query<ShareMovementRow>(
      `SELECT seq, ts, symbol, qty, cost FROM share_movements
        WHERE account = $1 AND ts < $2::timestamptz AND ($4::timestamptz IS NULL OR ts >= $4::timestamptz)
          AND seq > $3 ORDER BY seq LIMIT ${PAGE}`,
      [account, end, after, start],
    );
    yield* rows;
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.seq;
  }
}

/**
 * Mark price in cents of each symbol at `at`: the last trade on our exchange before it, else the
 * close of the latest daily (then one-minute) candle that began before it, else null.
 */
export async function marks(
  db: Queryable,
  symbols: string[],
  at: string,
): Promise<Map<string, number | null>> {
  if (symbols.length === 0) return new Map();
  const { rows } = await db.query<{ symbol: string; mark: number | null }>(
    `SELECT s.symbol, coalesce(
        (SELECT price FROM trades t WHERE t.symbol = s.symbol AND t.ts < $2::timestamptz ORDER BY ts DESC, id DESC LIMIT 1),
        (SELECT round(close * 100)::int8 FROM md_candles c
          WHERE c.symbol = s.symbol AND c.timeframe = '1d' AND c.bucket < $2::timestamptz ORDER BY bucket DESC LIMIT 1),
        (SELECT round(close * 100)::int8 FROM md_candles c
          WHERE c.symbol = s.symbol AND c.timeframe = '1m' AND c.bucket < $2::timestamptz ORDER BY bucket DESC LIMIT 1)
      ) AS mark
       FROM unnest($1::text[]) AS s(symbol)`,
    [symbols, at],
  );
  return new Map(rows.map((r) => [r.symbol, r.mark]));
}

export interface DailyEquityRow {
  day: string;
  cash: number;
  positions_value: number;
  /** deposits − withdrawals of the day, and shares transferred in − out (valued as below) */
  flow: number;
  /** buy + sell notional of the day */
  traded: number;
  /** held symbols without any mark that day (valued at 0) */
  unmarked: number;
}

/**
 * End-of-day cash and marked positions for every UTC day from `firstDay` to `lastDay`, and each
 * day's external flows and traded notional. Cumulative sums are window functions; each
 * (day, symbol) mark is one index probe (trades_symbol_ts, then md_candles' primary key).
 */
export async function dailyEquity(
  db: Queryable,
  account: string,
  firstDay: string,
  lastDay: string,
): Promise<DailyEquityRow[]> {
  const { rows } = await db.query<DailyEquityRow>(
    `WITH days AS (
       SELECT d::date AS day FROM generate_series($2::date, $3::date, interval '1 day') AS d
     ),
     ev AS (
       SELECT ts, NULL::text AS symbol, CASE kind WHEN 'deposit' THEN amount ELSE -amount END AS cash,
              CASE kind WHEN 'deposit' THEN amount ELSE -amount END AS flow, 0::int8 AS notional, 0::int8 AS q
         FROM cash_movements WHERE account = $1 AND ts < ($3::date + 1)::timestamptz
       UNION ALL SELECT ts, symbol, -(price * qty + buy_fee), 0, price * qty, qty FROM trades
         WHERE buy_account = $1 AND ts < ($3::date + 1)::timestamptz
       UNION ALL SELECT ts, symbol, price * qty - sell_fee, 0, price * qty, -qty FROM trades
         WHERE sell_account = $1 AND ts < ($3::date + 1)::timestamptz
       -- shares moved in or out are external flows too, valued at the last trade before them
       -- (a transfer in without one at its stated cost)
       UNION ALL SELECT ts, symbol, 0,
              qty * coalesce((SELECT price FROM trades t WHERE t.symbol = sm.symbol AND t.ts <= sm.ts
                               ORDER BY ts DESC, id DESC LIMIT 1), CASE WHEN qty > 0 THEN cost / qty END, 0),
              0, qty
         FROM share_movements sm WHERE account = $1 AND ts < ($3::date + 1)::timestamptz
     ),
     -- everything before the first day lands on it, so the running sums start from the opening state
     byday AS (
       SELECT greatest((ts AT TIME ZONE 'UTC')::date, $2::date) AS day, symbol,
              sum(cash) AS cash,
              sum(flow) FILTER (WHERE ts >= $2::date::timestamptz) AS flow,
              sum(notional) FILTER (WHERE ts >= $2::date::timestamptz) AS notional,
              sum(q) AS q
         FROM ev GROUP BY 1, 2
     ),
     cashday AS (
       SELECT d.day,
              sum(coalesce(sum(b.cash), 0)) OVER (ORDER BY d.day) AS cash,
              coalesce(sum(b.flow), 0) AS flow,
              coalesce(sum(b.notional), 0) AS traded
         FROM days d LEFT JOIN byday b ON b.day = d.day GROUP BY d.day
     ),
     syms AS (SELECT DISTINCT symbol FROM byday WHERE symbol IS NOT NULL),
     held AS (
       SELECT d.day, s.symbol,
              sum(coalesce(b.q, 0)) OVER (PARTITION BY s.symbol ORDER BY d.day) AS qty
         FROM days d CROSS JOIN syms s LEFT JOIN byday b ON b.day = d.day AND b.symbol = s.symbol
     ),
     valued AS (
       SELECT h.day, h.qty, m.mark FROM held h
         CROSS JOIN LATERAL (
           SELECT coalesce(
             (SELECT price FROM trades t WHERE t.symbol = h.symbol AND t.ts < (h.day + 1)::timestamptz
               ORDER BY ts DESC, id DESC LIMIT 1),
             (SELECT round(close * 100)::int8 FROM md_candles c WHERE c.symbol = h.symbol AND c.timeframe = '1d'
               AND c.bucket < (h.day + 1)::timestamptz ORDER BY bucket DESC LIMIT 1)) AS mark
         ) m
        WHERE h.qty <> 0
     )
     SELECT to_char(c.day, 'YYYY-MM-DD') AS day, c.cash::int8 AS cash,
            coalesce((SELECT sum(v.qty * coalesce(v.mark, 0)) FROM valued v WHERE v.day = c.day), 0)::int8 AS positions_value,
            c.flow::int8 AS flow, c.traded::int8 AS traded,
            (SELECT count(*) FROM valued v WHERE v.day = c.day AND v.mark IS NULL)::int8 AS unmarked
       FROM cashday c ORDER BY c.day`,
    [account, firstDay, lastDay],
  );
  return rows;
}

export interface CandleRow {
  t: Date;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: number;
  vwap: string | null;
  trades: number;
}

/** Candles of a symbol in [start, end), from md_candles. */
export async function candles(
  db: Queryable,
  symbol: string,
  timeframe: string,
  start: string,
  end: string,
): Promise<CandleRow[]> {
  const { rows } = await db.query<CandleRow>(
    `SELECT bucket AS t, open::text, high::text, low::text, close::text, volume, vwap::text, trades
       FROM md_candles WHERE symbol = $1 AND timeframe = $2 AND bucket >= $3::timestamptz AND bucket < $4::timestamptz
      ORDER BY bucket`,
    [symbol, timeframe, start, end],
  );
  return rows;
}

export const TIMEFRAME_SECONDS: Record<string, number> = {
  '1m': 60,
  '5m': 300,
  '15m': 900,
  '1h': 3600,
  '1d': 86400,
};

/** Candles built from our exchange's trades (prices in cents → dollars), for symbols without md_candles. */
export async function candlesFromTrades(
  db: Queryable,
  symbol: string,
  timeframe: string,
  start: string,
  end: string,
): Promise<CandleRow[]> {
  const seconds = TIMEFRAME_SECONDS[timeframe]!;
  const { rows } = await db.query<CandleRow>(
    `SELECT to_timestamp(floor(extract(epoch FROM ts) / $5) * $5) AS t,
            ((array_agg(price ORDER BY ts, id))[1] / 100.0)::numeric(20, 6)::text AS open,
            (max(price) / 100.0)::numeric(20, 6)::text AS high,
            (min(price) / 100.0)::numeric(20, 6)::text AS low,
            ((array_agg(price ORDER BY ts DESC, id DESC))[1] / 100.0)::numeric(20, 6)::text AS close,
            sum(qty)::int8 AS volume,
            (sum(price * qty) / sum(qty) / 100.0)::numeric(20, 6)::text AS vwap,
            count(*)::int8 AS trades
       FROM trades WHERE symbol = $1 AND ts >= $3::timestamptz AND ts < $4::timestamptz AND $2::text IS NOT NULL
      GROUP BY 1 ORDER BY 1`,
    [symbol, timeframe, start, end, seconds],
  );
  return rows;
}

export interface MoverRow {
  symbol: string;
  first_open: string;
  last_close: string;
  volume: number;
}

/**
 * First open and last close of every symbol with candles of `timeframe` in [start, end). The
 * symbols come from a loose index scan (recursive skip over the primary key), and each one's
 * first and last candle is an index probe, so the cost grows with symbols, not candles.
 */
export async function moversFromCandles(
  db: Queryable,
  timeframe: string,
  start: string,
  end: string,
): Promise<MoverRow[]> {
  const { rows } = await db.query<MoverRow>(
    `WITH RECURSIVE syms(symbol) AS (
       (SELECT symbol FROM md_candles ORDER BY symbol LIMIT 1)
       UNION ALL
       SELECT (SELECT c.symbol FROM md_candles c WHERE c.symbol > s.symbol ORDER BY c.symbol LIMIT 1)
         FROM syms s WHERE s.symbol IS NOT NULL
     )
     SELECT s.symbol, f.open::text AS first_open, l.close::text AS last_close, v.volume
       FROM syms s
       CROSS JOIN LATERAL (SELECT open FROM md_candles c WHERE c.symbol = s.symbol AND c.timeframe = $1
                             AND c.bucket >= $2::timestamptz AND c.bucket < $3::timestamptz ORDER BY bucket LIMIT 1) f
       CROSS JOIN LATERAL (SELECT close FROM md_candles c WHERE c.symbol = s.symbol AND c.timeframe = $1
                             AND c.bucket >= $2::timestamptz AND c.bucket < $3::timestamptz ORDER BY bucket DESC LIMIT 1) l
       CROSS JOIN LATERAL (SELECT sum(volume)::int8 AS volume FROM md_candles c WHERE c.symbol = s.symbol
                             AND c.timeframe = $1 AND c.bucket >= $2::timestamptz AND c.bucket < $3::timestamptz) v
      WHERE s.symbol IS NOT NULL`,
    [timeframe, start, end],
  );
  return rows;
}

/** Movers from our exchange's trades, for when no candles exist at all. */
export async function moversFromTrades(db: Queryable, start: string, end: string): Promise<MoverRow[]> {
  const { rows } = await db.query<MoverRow>(
    `SELECT symbol, ((array_agg(price ORDER BY ts, id))[1] / 100.0)::numeric(20, 6)::text AS first_open,
            ((array_agg(price ORDER BY ts DESC, id DESC))[1] / 100.0)::numeric(20, 6)::text AS last_close,
            sum(qty)::int8 AS volume
       FROM trades WHERE ts >= $1::timestamptz AND ts < $2::timestamptz GROUP BY symbol`,
    [start, end],
  );
  return rows;
}

export interface ClientAggregate {
  account: string;
  trades: number;
  volume: number;
  fees: number;
}

/** Trades, notional and fees paid in [start, end) for each of a page of accounts. */
export async function clientAggregates(
  db: Queryable,
  accounts: string[],
  start: string,
  end: string,
): Promise<Map<string, ClientAggregate>> {
  const { rows } = await db.query<ClientAggregate>(
    `SELECT a AS account, coalesce(sum(n), 0)::int8 AS trades, coalesce(sum(notional), 0)::int8 AS volume,
            coalesce(sum(fee), 0)::int8 AS fees
       FROM unnest($1::text[]) AS u(a)
       LEFT JOIN LATERAL (
         SELECT 1 AS n, price * qty AS notional, buy_fee AS fee FROM trades
          WHERE buy_account = u.a AND ts >= $2::timestamptz AND ts < $3::timestamptz
         UNION ALL
         SELECT 1, price * qty, sell_fee FROM trades
          WHERE sell_account = u.a AND ts >= $2::timestamptz AND ts < $3::timestamptz
       ) t ON true
      GROUP BY a`,
    [accounts, start, end],
  );
  return new Map(rows.map((r) => [r.account, r]));
}

/** The listed instrument's tick in cents, or null for a symbol that is not listed (imported only). */
export async function tickOf(db: Queryable, symbol: string): Promise<number | null> {
  const { rows } = await db.query<{ tick_size: number }>(
    'SELECT tick_size FROM instruments WHERE symbol = $1',
    [symbol],
  );
  return rows[0]?.tick_size ?? null;
}

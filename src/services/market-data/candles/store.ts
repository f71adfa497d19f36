/** md_candles: upserts by primary key (idempotent, several instances may write) and reads. */
import { insertMany } from '../../../platform/db/insert-many.ts';
import type { Queryable } from '../../../platform/db/types.ts';
import type { Bar, Timeframe } from '../model.ts';

const COLUMNS = {
  symbol: 'text',
  timeframe: 'text',
  bucket: 'timestamptz',
  open: 'numeric',
  high: 'numeric',
  low: 'numeric',
  close: 'numeric',
  volume: 'int8',
  vwap: 'numeric',
  trades: 'int4',
  source: 'text',
} as const;

const ON_CONFLICT =
  '(symbol, timeframe, bucket) DO UPDATE SET open = excluded.open, high = excluded.high, ' +
  'low = excluded.low, close = excluded.close, volume = excluded.volume, vwap = excluded.vwap, ' +
  'trades = excluded.trades, source = excluded.source';

// numeric(20,6): six decimals; a float like 0.1 + 0.2 is written as 0.300000
const dec = (n: number): string => n.toFixed(6);

/** Writes candles; the same key twice in one call keeps the last. */
export async function upsertBars(db: Queryable, bars: readonly Bar[]): Promise<number> {
  if (bars.length === 0) return 0;
  const unique = new Map<string, Bar>();
  for (const b of bars) unique.set(`${b.symbol}|${b.timeframe}|${b.t}`, b);
  const rows = [...unique.values()].map((b) => [
    b.symbol,
    b.timeframe,
    new Date(b.t),
    dec(b.o),
    dec(b.h),
    dec(b.l),
    dec(b.c),
    b.v,
    b.vw === null ? null : dec(b.vw),
    b.n,
    b.source,
  ]);
  return insertMany(db, 'md_candles', COLUMNS, rows, { onConflict: ON_CONFLICT });
}

interface Row {
  symbol: string;
  timeframe: Timeframe;
  bucket: Date;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: number;
  vwap: string | null;
  trades: number;
  source: string;
}

const SELECT =
  'SELECT symbol, timeframe, bucket, open, high, low, close, volume, vwap, trades, source FROM md_candles';

function toBar(r: Row): Bar {
  return {
    symbol: r.symbol,
    timeframe: r.timeframe,
    t: r.bucket.getTime(),
    o: Number(r.open),
    h: Number(r.high),
    l: Number(r.low),
    c: Number(r.close),
    v: r.volume,
    vw: r.vwap === null ? null : Number(r.vwap),
    n: r.trades,
    source: r.source,
  };
}

/** Candles with start ≤ bucket < end, oldest first, at most `limit`. */
export async function readBars(
  db: Queryable,
  q: { symbol: string; timeframe: Timeframe; start: number; end: number; limit: number },
): Promise<Bar[]> {
  const { rows } = await db.query<Row>(
    `${SELECT} WHERE symbol = $1 AND timeframe = $2 AND bucket >= $3 AND bucket < $4 ORDER BY bucket LIMIT $5`,
    [q.symbol, q.timeframe, new Date(q.start), new Date(q.end), q.limit],
  );
  return rows.map(toBar);
}

/** The newest candles before `before`, newest first. */
export async function readLastBars(
  db: Queryable,
  q: { symbol: string; timeframe: Timeframe; before: number; limit: number },
): Promise<Bar[]> {
  const { rows } = await db.query<Row>(
    `${SELECT} WHERE symbol = $1 AND timeframe = $2 AND bucket < $3 ORDER BY bucket DESC LIMIT $4`,
    [q.symbol, q.timeframe, new Date(q.before), q.limit],
  );
  return rows.map(toBar);
}

/** Every symbol's candles of the buckets containing `now` (start-up: continue them). */
export async function readOpenBars(db: Queryable, now: number): Promise<Bar[]> {
  const { rows } = await db.query<Row>(
    `${SELECT} WHERE bucket >= $1 AND (
       (timeframe = '1m' AND bucket = $2) OR (timeframe = '5m' AND bucket = $3) OR
       (timeframe = '15m' AND bucket = $4) OR (timeframe = '1h' AND bucket = $5) OR
       (timeframe = '1d' AND bucket = $6))`,
    [
      new Date(now - 86_400_000),
      ...[60_000, 300_000, 900_000, 3_600_000, 86_400_000].map((ms) => new Date(now - (now % ms))),
    ],
  );
  return rows.map(toBar).filter((b) => b.source !== 'import');
}

/**
 * Every symbol that has candles (imported history included), alphabetical. A skip scan over the
 * primary key: one index probe per symbol, not a pass over the whole table.
 */
export async function readCandleSymbols(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ symbol: string }>(
    `WITH RECURSIVE s(symbol) AS (
       (SELECT symbol FROM md_candles ORDER BY symbol LIMIT 1)
       UNION ALL
       SELECT (SELECT c.symbol FROM md_candles c WHERE c.symbol > s.symbol ORDER BY c.symbol LIMIT 1)
       FROM s WHERE s.symbol IS NOT NULL
     )
     SELECT symbol FROM s WHERE symbol IS NOT NULL`,
  );
  return rows.map((r) => r.symbol);
}

/**
 * Quote history (md_quotes, migration 012): the consolidated quotes the stream sends, kept so that
 * Alpaca's historical quote routes answer more than the latest quote. `record` buffers (it runs on
 * the stream's tick); `flush` writes the buffer in one statement (the service's flush interval, and
 * before a read, so a read sees the quotes this instance has sent). Several instances may record
 * the same quote: a row is an upsert by (symbol, ts, source), so a repeat changes nothing.
 */
import { insertMany } from '../../platform/db/insert-many.ts';
import type { Queryable } from '../../platform/db/types.ts';
import type { Logger } from '../../platform/logger.ts';
import type { AlpacaQuote } from './client.ts';
import type { Quote } from './model.ts';

export const QUOTE_HISTORY_MS = 7 * 86_400_000;
/** a backlog beyond twice this many unwritten quotes drops the oldest: the stream must not wait on the database */
const MAX_BUFFERED = 50_000;
const COLUMNS = {
  symbol: 'text',
  ts: 'timestamptz',
  source: 'text',
  bid: 'numeric',
  bid_size: 'int8',
  ask: 'numeric',
  ask_size: 'int8',
} as const;
const ON_CONFLICT =
  '(symbol, ts, source) DO UPDATE SET bid = excluded.bid, bid_size = excluded.bid_size, ' +
  'ask = excluded.ask, ask_size = excluded.ask_size';

export interface QuoteHistory {
  record(q: Quote): void;
  flush(): Promise<void>;
  /** in time order (`desc`: newest first), `from` inclusive, `to` exclusive */
  read(
    symbol: string,
    q: { from?: number; to?: number; sort?: 'asc' | 'desc'; limit: number },
  ): Promise<AlpacaQuote[]>;
  prune(now: number): Promise<void>;
}

interface Row {
  ts: Date;
  source: string;
  bid: string;
  bid_size: string;
  ask: string;
  ask_size: string;
}

export function createQuoteHistory(db: Queryable, logger: Logger): QuoteHistory {
  let buffer: Quote[] = [];
  let writing: Promise<void> = Promise.resolve();

  async function writeOnce(): Promise<void> {
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    // one row per key and statement (an upsert may not touch a row twice): the last quote wins
    const unique = new Map<string, Quote>();
    for (const q of batch) unique.set(`${q.symbol}|${q.ts}|${q.source}`, q);
    const rows = [...unique.values()].map((q) => [
      q.symbol,
      new Date(q.ts),
      q.source,
      q.bid.toFixed(6),
      q.bidSize,
      q.ask.toFixed(6),
      q.askSize,
    ]);
    try {
      await insertMany(db, 'md_quotes', COLUMNS, rows, { onConflict: ON_CONFLICT });
    } catch (err) {
      // kept for the next flush (bounded): a database hiccup loses no history
      buffer = [...batch, ...buffer].slice(-MAX_BUFFERED);
      logger.warn({ err, quotes: batch.length }, 'market-data: quote history write failed; will retry');
    }
  }

  return {
    record(q) {
      buffer.push(q);
      // trimmed in halves, not on every push: a quote must cost O(1) however long the backlog
      if (buffer.length >= 2 * MAX_BUFFERED) buffer = buffer.slice(-MAX_BUFFERED);
    },
    flush() {
      writing = writing.then(writeOnce, writeOnce);
      return writing;
    },
    async read(symbol, q) {
      const params: unknown[] = [symbol];
      const where = ['symbol = $1'];
      if (q.from !== undefined) {
        params.push(new Date(q.from));
        where.push(`ts >= $${params.length}`);
      }
      if (q.to !== undefined) {
        params.push(new Date(q.to));
        where.push(`ts < $${params.length}`);
      }
      params.push(q.limit);
      const order = q.sort === 'desc' ? 'DESC' : 'ASC';
      const { rows } = await db.query<Row>(
        `SELECT ts, source, bid, bid_size, ask, ask_size FROM md_quotes WHERE ${where.join(' AND ')}
         ORDER BY ts ${order}, source ${order} LIMIT $${params.length}`,
        params,
      );
      return rows.map((r) => ({
        t: r.ts.toISOString(),
        bp: Number(r.bid),
        bs: Number(r.bid_size),
        ap: Number(r.ask),
        as: Number(r.ask_size),
        x: r.source,
      }));
    },
    async prune(now) {
      await db.query('DELETE FROM md_quotes WHERE ts < $1', [new Date(now - QUOTE_HISTORY_MS)]);
    },
  };
}

/**
 * Price alerts: "tell me when SYMBOL trades at or above / at or below PRICE", evaluated on the
 * public trade tape (`md.trade.<SYMBOL>`), fired once.
 *
 * Every instance sees every trade, so firing is decided in the database: a conditional UPDATE
 * (`triggered_at IS NULL`) marks the alerts and creates their notifications in one transaction;
 * of several instances, exactly one gets the rows back. To keep the trade tape from becoming a
 * database load, each instance
 * - keeps, per symbol, the lowest "above" and highest "below" price of the active alerts (reloaded
 *   every few seconds, updated at once for alerts it creates), and only asks the database when a
 *   trade crosses one;
 * - coalesces trades per symbol: while one check runs, later trades only widen the high/low the
 *   next check uses, so no crossing is missed and at most one check per symbol is in flight.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import { subjects } from '../orders/events.ts';
import { centsToDecimal } from './money.ts';
import type { Inbox } from './notifications.ts';
import { problem } from './problems.ts';

export const TRADE_SUBJECTS = subjects.allTrades;
const THRESHOLD_RELOAD_MS = 5_000;

export type AlertCondition = 'above' | 'below';

export interface AlertRow {
  id: string;
  seq: number;
  user_id: string;
  symbol: string;
  condition: AlertCondition;
  price_cents: number;
  created_at: Date;
  triggered_at: Date | null;
  triggered_price_cents: number | null;
}

export function alertView(r: AlertRow) {
  return {
    id: r.id,
    symbol: r.symbol,
    condition: r.condition,
    price: centsToDecimal(r.price_cents),
    status: r.triggered_at ? ('triggered' as const) : ('active' as const),
    created_at: r.created_at.toISOString(),
    triggered_at: r.triggered_at?.toISOString() ?? null,
    triggered_price: r.triggered_price_cents === null ? null : centsToDecimal(r.triggered_price_cents),
  };
}

export interface Alerts {
  create(
    userId: string,
    a: { symbol: string; condition: AlertCondition; priceCents: number },
  ): Promise<AlertRow>;
  list(
    userId: string,
    f: { status?: 'active' | 'triggered'; afterSeq: number | null; limit: number },
  ): Promise<AlertRow[]>;
  get(userId: string, id: string): Promise<AlertRow | null>;
  remove(userId: string, id: string): Promise<boolean>;
  /** A trade on the tape (price in cents). */
  onTrade(symbol: string, priceCents: number): void;
  /** Resolves when every check started so far has finished. */
  idle(): Promise<void>;
  close(): void;
}

interface Threshold {
  /** lowest price of an active 'above' alert */
  above: number | null;
  /** highest price of an active 'below' alert */
  below: number | null;
}

interface Pending {
  high: number;
  low: number;
}

const COLS =
  'id, seq, user_id, symbol, condition, price_cents, created_at, triggered_at, triggered_price_cents';

export function createAlerts(deps: {
  db: Db;
  clock: Clock;
  logger: FastifyBaseLogger;
  inbox: Inbox;
  maxActivePerUser: number;
}): Alerts {
  const { db, clock, logger, inbox } = deps;
  let thresholds = new Map<string, Threshold>();
  let ready = false;
  let recent: { symbol: string; condition: AlertCondition; price: number; at: number }[] = [];
  const pending = new Map<string, Pending>();
  const running = new Map<string, Promise<void>>();

  function widen(symbol: string, condition: AlertCondition, price: number): void {
    const t = thresholds.get(symbol) ?? { above: null, below: null };
    if (condition === 'above') t.above = t.above === null ? price : Math.min(t.above, price);
    else t.below = t.below === null ? price : Math.max(t.below, price);
    thresholds.set(symbol, t);
  }

  async function reloadThresholds(): Promise<void> {
    const { rows } = await db.query<{ symbol: string; above: number | null; below: number | null }>(
      `SELECT symbol,
              min(price_cents) FILTER (WHERE condition = 'above') AS above,
              max(price_cents) FILTER (WHERE condition = 'below') AS below
         FROM price_alerts WHERE triggered_at IS NULL GROUP BY symbol`,
    );
    thresholds = new Map(rows.map((r) => [r.symbol, { above: r.above, below: r.below }]));
    // alerts created here while the query ran may be missing from its answer: apply them again
    const since = clock.now() - 3 * THRESHOLD_RELOAD_MS;
    recent = recent.filter((a) => a.at > since);
    for (const a of recent) widen(a.symbol, a.condition, a.price);
    ready = true;
  }

  const timer = setInterval(() => {
    reloadThresholds().catch((err: unknown) =>
      logger.warn({ err }, 'could not reload price alert thresholds'),
    );
  }, THRESHOLD_RELOAD_MS);
  timer.unref();
  const loaded = reloadThresholds().catch((err: unknown) =>
    logger.warn({ err }, 'could not load price alerts'),
  );

  async function check(symbol: string, p: Pending): Promise<void> {
    const now = new Date(clock.now());
    const created = await db.transaction(async (tx) => {
      const { rows } = await tx.query<AlertRow>(
        `UPDATE price_alerts
            SET triggered_at = $4,
                triggered_price_cents = CASE WHEN condition = 'above' THEN $2::bigint ELSE $3::bigint END
          WHERE symbol = $1 AND triggered_at IS NULL
            AND ((condition = 'above' AND price_cents <= $2) OR (condition = 'below' AND price_cents >= $3))
          RETURNING ${COLS}`,
        [symbol, p.high, p.low, now],
      );
      return inbox.insert(
        tx,
        rows.map((r) => ({
          userId: r.user_id,
          kind: 'price_alert' as const,
          title: `${r.symbol} traded ${r.condition === 'above' ? 'at or above' : 'at or below'} ${centsToDecimal(r.price_cents)}`,
          data: {
            alert_id: r.id,
            symbol: r.symbol,
            condition: r.condition,
            price: centsToDecimal(r.price_cents),
            triggered_price: centsToDecimal(r.condition === 'above' ? p.high : p.low),
          },
          dedupeKey: `alert/${r.id}`,
        })),
      );
    });
    await inbox.announce(created);
  }

  async function drain(symbol: string): Promise<void> {
    await loaded;
    for (let p = pending.get(symbol); p; p = pending.get(symbol)) {
      pending.delete(symbol);
      try {
        await check(symbol, p);
      } catch (err) {
        logger.error({ err, symbol }, 'price alert check failed');
      }
    }
    running.delete(symbol);
  }

  return {
    async create(userId, a) {
      const { rows } = await db.query<AlertRow>(
        `INSERT INTO price_alerts (id, user_id, symbol, condition, price_cents, created_at)
         SELECT $1, $2, $3, $4, $5, $6
          WHERE (SELECT count(*) FROM price_alerts WHERE user_id = $2 AND triggered_at IS NULL) < $7
         RETURNING ${COLS}`,
        [
          randomUUID(),
          userId,
          a.symbol,
          a.condition,
          a.priceCents,
          new Date(clock.now()),
          deps.maxActivePerUser,
        ],
      );
      const row = rows[0];
      if (!row) {
        throw problem(
          409,
          'too-many-alerts',
          'Too many alerts',
          `at most ${deps.maxActivePerUser} active alerts`,
        );
      }
      widen(row.symbol, row.condition, row.price_cents);
      recent.push({ symbol: row.symbol, condition: row.condition, price: row.price_cents, at: clock.now() });
      return row;
    },
    async list(userId, f) {
      const { rows } = await db.query<AlertRow>(
        `SELECT ${COLS} FROM price_alerts
          WHERE user_id = $1 AND seq > $2
            AND ($3::text IS NULL OR ($3 = 'active') = (triggered_at IS NULL))
          ORDER BY seq LIMIT $4`,
        [userId, f.afterSeq ?? 0, f.status ?? null, f.limit + 1],
      );
      return rows;
    },
    async get(userId, id) {
      const { rows } = await db.query<AlertRow>(
        `SELECT ${COLS} FROM price_alerts WHERE id = $1 AND user_id = $2`,
        [id, userId],
      );
      return rows[0] ?? null;
    },
    async remove(userId, id) {
      const { rows } = await db.query(
        'DELETE FROM price_alerts WHERE id = $1 AND user_id = $2 RETURNING id',
        [id, userId],
      );
      return rows.length > 0;
    },
    onTrade(symbol, price) {
      const p = pending.get(symbol);
      if (p) {
        p.high = Math.max(p.high, price);
        p.low = Math.min(p.low, price);
        return;
      }
      // until the thresholds are loaded every trade is checked: none may be missed at startup
      if (ready) {
        const t = thresholds.get(symbol);
        const crosses =
          t !== undefined &&
          ((t.above !== null && price >= t.above) || (t.below !== null && price <= t.below));
        if (!crosses) return;
      }
      pending.set(symbol, { high: price, low: price });
      if (!running.has(symbol)) running.set(symbol, drain(symbol));
    },
    async idle() {
      await loaded;
      while (running.size > 0) await Promise.all([...running.values()]);
    },
    close() {
      clearInterval(timer);
    },
  };
}

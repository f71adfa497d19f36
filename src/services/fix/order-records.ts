/**
 * A session's memory of its orders (fix_orders, fix_order_reports): every ClOrdID it used and the
 * order each names, and what it has reported about each order. Both survive restarts, so a cancel
 * can name an OrigClOrdID from yesterday's connection and a reconnecting session is told what
 * changed while it was away.
 */
import type { Clock } from '../../platform/clock.ts';
import type { Queryable } from '../../platform/db/types.ts';
import type { OrderStatus } from '../orders/client.ts';

export type RequestKind = 'new' | 'cancel' | 'replace';

export interface ClOrdIdRecord {
  clOrdId: string;
  request: RequestKind;
  account: string;
  /** null: outcome not known yet; 0: not accepted */
  orderId: number | null;
  origClOrdId: string | null;
}

/** What the session has told its client about one order. */
export interface Reported {
  orderId: number;
  account: string;
  symbol: string;
  clOrdId: string;
  /** 'pending' until the New has been reported */
  status: OrderStatus | 'pending';
  cumQty: number;
  notional: number;
  qty: number;
  price: number;
  stopPrice: number;
  triggered: boolean;
  lastTradeId: number;
  /** updatedAt of the last order state reported */
  seenAt: number;
  open: boolean;
}

export interface OrderRecords {
  /** false when this session already used the ClOrdID */
  recordRequest(r: ClOrdIdRecord): Promise<boolean>;
  setOrderId(clOrdId: string, orderId: number): Promise<void>;
  find(clOrdId: string): Promise<ClOrdIdRecord | null>;
  /** new orders whose outcome the session never learnt (a crash or an outage mid-submit) */
  unresolved(): Promise<ClOrdIdRecord[]>;
  openReports(): Promise<Reported[]>;
  report(orderId: number): Promise<Reported | null>;
  saveReport(r: Reported): Promise<void>;
}

interface RecordRow {
  cl_ord_id: string;
  request: RequestKind;
  account: string;
  order_id: number | null;
  orig_cl_ord_id: string | null;
}

interface ReportRow {
  order_id: number;
  account: string;
  symbol: string;
  cl_ord_id: string;
  status: Reported['status'];
  cum_qty: number;
  notional: number;
  qty: number;
  price: number;
  stop_price: number;
  triggered: boolean;
  last_trade_id: number;
  seen_at: number;
  open: boolean;
}

const recordOf = (r: RecordRow): ClOrdIdRecord => ({
  clOrdId: r.cl_ord_id,
  request: r.request,
  account: r.account,
  orderId: r.order_id,
  origClOrdId: r.orig_cl_ord_id,
});

const reportOf = (r: ReportRow): Reported => ({
  orderId: r.order_id,
  account: r.account,
  symbol: r.symbol,
  clOrdId: r.cl_ord_id,
  status: r.status,
  cumQty: r.cum_qty,
  notional: r.notional,
  qty: r.qty,
  price: r.price,
  stopPrice: r.stop_price,
  triggered: r.triggered,
  lastTradeId: r.last_trade_id,
  seenAt: r.seen_at,
  open: r.open,
});

const REPORT_COLUMNS = `order_id, account, symbol, cl_ord_id, status, cum_qty, notional, qty, price, stop_price,
  triggered, last_trade_id, seen_at, open`;

export function createOrderRecords(db: Queryable, sessionId: number, clock: Clock): OrderRecords {
  return {
    async recordRequest(r) {
      const { rowCount } = await db.query(
        `INSERT INTO fix_orders (session_id, cl_ord_id, request, account, order_id, orig_cl_ord_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (session_id, cl_ord_id) DO NOTHING`,
        [sessionId, r.clOrdId, r.request, r.account, r.orderId, r.origClOrdId, new Date(clock.now())],
      );
      return rowCount === 1;
    },
    async setOrderId(clOrdId, orderId) {
      await db.query('UPDATE fix_orders SET order_id = $3 WHERE session_id = $1 AND cl_ord_id = $2', [
        sessionId,
        clOrdId,
        orderId,
      ]);
    },
    async find(clOrdId) {
      const { rows } = await db.query<RecordRow>(
        `SELECT cl_ord_id, request, account, order_id, orig_cl_ord_id FROM fix_orders
          WHERE session_id = $1 AND cl_ord_id = $2`,
        [sessionId, clOrdId],
      );
      return rows[0] ? recordOf(rows[0]) : null;
    },
    async unresolved() {
      const { rows } = await db.query<RecordRow>(
        `SELECT cl_ord_id, request, account, order_id, orig_cl_ord_id FROM fix_orders
          WHERE session_id = $1 AND request = 'new' AND order_id IS NULL ORDER BY created_at`,
        [sessionId],
      );
      return rows.map(recordOf);
    },
    async openReports() {
      const { rows } = await db.query<ReportRow>(
        `SELECT ${REPORT_COLUMNS} FROM fix_order_reports WHERE session_id = $1 AND open ORDER BY order_id`,
        [sessionId],
      );
      return rows.map(reportOf);
    },
    async report(orderId) {
      const { rows } = await db.query<ReportRow>(
        `SELECT ${REPORT_COLUMNS} FROM fix_order_reports WHERE session_id = $1 AND order_id = $2`,
        [sessionId, orderId],
      );
      return rows[0] ? reportOf(rows[0]) : null;
    },
    async saveReport(r) {
      await db.query(
        `INSERT INTO fix_order_reports (session_id, ${REPORT_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (session_id, order_id) DO UPDATE SET cl_ord_id = EXCLUDED.cl_ord_id,
           status = EXCLUDED.status, cum_qty = EXCLUDED.cum_qty, notional = EXCLUDED.notional,
           qty = EXCLUDED.qty, price = EXCLUDED.price, stop_price = EXCLUDED.stop_price,
           triggered = EXCLUDED.triggered, last_trade_id = EXCLUDED.last_trade_id,
           seen_at = EXCLUDED.seen_at, open = EXCLUDED.open`,
        [
          sessionId,
          r.orderId,
          r.account,
          r.symbol,
          r.clOrdId,
          r.status,
          r.cumQty,
          r.notional,
          r.qty,
          r.price,
          r.stopPrice,
          r.triggered,
          r.lastTradeId,
          r.seenAt,
          r.open,
        ],
      );
    },
  };
}

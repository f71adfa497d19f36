/**
 * Recovery: rebuild the exchange from the journal, then prove the derived tables agree with it.
 *
 * The journal is the truth; orders/accounts/positions/instruments/exchange_state are derived
 * from it in the same transactions, so after a crash they must equal what a replay produces.
 * If they do not (a bug, a manual edit, an engine whose behaviour changed), the service refuses
 * to start: trading on top of state nobody can explain is the one thing an exchange must not do.
 * The replay also checks that every command gets the verdict it got the first time.
 */
import type { ExchangeConfig, OrderView } from '../../domain/exchange.ts';
import type { CreateExchange, ExchangeState } from '../../engine/api.ts';
import type { Queryable } from '../../platform/db/types.ts';
import { idempotencyKeys, readJournal } from './journal.ts';
import { type OrderViewRow, orderViewOfRow } from './mapping.ts';
import type { SequencerState } from './sequencer.ts';

export class RecoveryError extends Error {
  constructor(
    message: string,
    readonly differences: string[] = [],
  ) {
    super(differences.length ? `${message}:\n  ${differences.join('\n  ')}` : message);
    this.name = 'RecoveryError';
  }
}

export interface Recovered {
  state: SequencerState;
  /** client order ids of the orders still open (for execution messages) */
  openClientOrderIds: Map<number, string>;
  commands: number;
}

export interface RecoverOptions {
  createExchange: CreateExchange;
  exchangeConfig: ExchangeConfig;
  /** compare the derived tables with the replayed state (default true) */
  verify?: boolean;
}

/** Replays the whole journal into a fresh engine. */
export async function replayJournal(
  db: Queryable,
  options: RecoverOptions,
): Promise<{ state: SequencerState; commands: number }> {
  const engine = options.createExchange(options.exchangeConfig);
  const idempotency = new Map<string, number>();
  let lastSeq = 0;
  let lastOrderId = 0;
  let lastTs = 0;
  for await (const entry of readJournal(db)) {
    if (entry.seq !== lastSeq + 1) {
      throw new RecoveryError(`journal gap: seq ${entry.seq} follows ${lastSeq}`);
    }
    const events = engine.apply(entry.command);
    let verdict: string | null = null;
    for (const e of events) {
      if (e.type === 'rejected' && e.command === entry.command.type) {
        verdict = e.reason;
        break;
      }
    }
    if (verdict !== entry.rejectReason) {
      throw new RecoveryError(
        `replay diverged at seq ${entry.seq} (${entry.command.type}): journaled verdict ` +
          `${entry.rejectReason ?? 'accepted'}, replay gives ${verdict ?? 'accepted'}`,
      );
    }
    lastSeq = entry.seq;
    lastTs = Math.max(lastTs, entry.command.ts);
    const command = entry.command;
    if (command.type === 'new_order') {
      lastOrderId = Math.max(lastOrderId, command.id);
      const clientOrderId = (command as { clientOrderId?: string }).clientOrderId;
      if (clientOrderId !== undefined) {
        idempotency.set(idempotencyKeys.order(command.account, clientOrderId), entry.seq);
      }
    }
    if (entry.idempotencyKey !== null) idempotency.set(entry.idempotencyKey, entry.seq);
  }
  return { state: { engine, lastSeq, lastOrderId, lastTs, idempotency }, commands: lastSeq };
}

export async function recover(db: Queryable, options: RecoverOptions): Promise<Recovered> {
  const { state, commands } = await replayJournal(db, options);
  if (options.verify !== false) {
    const differences = await compareDerivedTables(db, state.engine.exportState(), state.lastSeq);
    if (differences.length > 0) {
      throw new RecoveryError('derived tables disagree with the journal replay', differences);
    }
  }
  const { rows } = await db.query<{ id: number; client_order_id: string }>(
    `SELECT id, client_order_id FROM orders
      WHERE status IN ('new', 'partially_filled') AND client_order_id IS NOT NULL`,
  );
  const openClientOrderIds = new Map(rows.map((r) => [r.id, r.client_order_id]));
  return { state, openClientOrderIds, commands };
}

const MAX_REPORTED = 20;

/** Every difference between the tables and a replayed state, as human-readable lines. */
export async function compareDerivedTables(
  db: Queryable,
  expected: ExchangeState,
  lastSeq: number,
): Promise<string[]> {
  const out: string[] = [];
  const report = (line: string): void => {
    if (out.length < MAX_REPORTED) out.push(line);
  };

  const exchange = (
    await db.query<{ session: string; market_halted: boolean; next_trade_id: number; last_seq: number }>(
      'SELECT session, market_halted, next_trade_id, last_seq FROM exchange_state WHERE id = 1',
    )
  ).rows[0];
  if (!exchange) {
    if (lastSeq !== 0) report(`exchange_state: missing, but the journal has ${lastSeq} entries`);
  } else {
    if (exchange.last_seq !== lastSeq)
      report(`exchange_state.last_seq ${exchange.last_seq} ≠ journal ${lastSeq}`);
    if (exchange.session !== expected.session) report(`session ${exchange.session} ≠ ${expected.session}`);
    if (exchange.market_halted !== expected.marketHalted) {
      report(`market_halted ${exchange.market_halted} ≠ ${expected.marketHalted}`);
    }
    if (exchange.next_trade_id !== expected.nextTradeId) {
      report(`next_trade_id ${exchange.next_trade_id} ≠ ${expected.nextTradeId}`);
    }
  }

  const accounts = await db.query<{ account: string; cash: number; reserved: number }>(
    'SELECT account, cash, reserved FROM accounts WHERE cash <> 0 OR reserved <> 0',
  );
  compareKeyed(
    'account',
    accounts.rows.map((r) => ({ key: r.account, value: { cash: r.cash, reserved: r.reserved } })),
    expected.accounts
      .filter((a) => a.cash !== 0 || a.reserved !== 0)
      .map((a) => ({ key: a.account, value: { cash: a.cash, reserved: a.reserved } })),
    report,
  );

  const positions = await db.query<{
    account: string;
    symbol: string;
    qty: number;
    reserved: number;
    cost: number;
  }>(
    'SELECT account, symbol, qty, reserved, cost FROM positions WHERE qty <> 0 OR reserved <> 0 OR cost <> 0',
  );
  compareKeyed(
    'position',
    positions.rows.map((r) => ({
      key: `${r.account}/${r.symbol}`,
      value: { qty: r.qty, reserved: r.reserved, cost: r.cost },
    })),
    expected.positions
      .filter((p) => p.qty !== 0 || p.reserved !== 0 || p.cost !== 0)
      .map((p) => ({
        key: `${p.account}/${p.symbol}`,
        value: { qty: p.qty, reserved: p.reserved, cost: p.cost },
      })),
    report,
  );

  const orders = await db.query<OrderViewRow>(
    `SELECT id, account, symbol, side, type, tif, qty, filled_qty, price, stop_price, post_only, status,
            triggered, filled_notional, fees, created_at, updated_at
       FROM orders WHERE status IN ('new', 'partially_filled')`,
  );
  compareKeyed(
    'open order',
    orders.rows.map((r) => ({ key: String(r.id), value: orderViewOfRow(r) })),
    expected.openOrders.map((o) => ({ key: String(o.id), value: normalizeOrder(o) })),
    report,
  );

  const instruments = await db.query<InstrumentRowForCheck>(
    `SELECT symbol, tick_size, lot_size, min_qty, max_qty, price_band_bps, collar_bps, reference_price,
            maker_bps, taker_bps, halted, last_trade_price FROM instruments`,
  );
  compareKeyed(
    'instrument',
    instruments.rows.map((r) => ({
      key: r.symbol,
      value: {
        tickSize: r.tick_size,
        lotSize: r.lot_size,
        minQty: r.min_qty,
        maxQty: r.max_qty,
        priceBandBps: r.price_band_bps,
        collarBps: r.collar_bps,
        referencePrice: r.reference_price,
        fees: r.maker_bps === null ? null : { makerBps: r.maker_bps, takerBps: r.taker_bps },
        halted: r.halted,
        lastTradePrice: r.last_trade_price,
      },
    })),
    expected.instruments.map((i) => ({
      key: i.spec.symbol,
      value: {
        tickSize: i.spec.tickSize,
        lotSize: i.spec.lotSize,
        minQty: i.spec.minQty,
        maxQty: i.spec.maxQty,
        priceBandBps: i.spec.priceBandBps,
        collarBps: i.spec.collarBps,
        referencePrice: i.spec.referencePrice,
        fees: i.spec.fees ? { makerBps: i.spec.fees.makerBps, takerBps: i.spec.fees.takerBps } : null,
        halted: i.halted,
        lastTradePrice: i.lastTradePrice,
      },
    })),
    report,
  );
  return out;
}

interface InstrumentRowForCheck {
  symbol: string;
  tick_size: number;
  lot_size: number;
  min_qty: number;
  max_qty: number;
  price_band_bps: number;
  collar_bps: number;
  reference_price: number;
  maker_bps: number | null;
  taker_bps: number | null;
  halted: boolean;
  last_trade_price: number | null;
}

/** The same field order for both sides, so JSON comparison is field-by-field. */
function normalizeOrder(o: OrderView): OrderView {
  return orderViewOfRow({
    id: o.id,
    account: o.account,
    symbol: o.symbol,
    side: o.side,
    type: o.orderType,
    tif: o.tif,
    qty: o.qty,
    filled_qty: o.filledQty,
    price: o.price,
    stop_price: o.stopPrice,
    post_only: o.postOnly,
    status: o.status,
    triggered: o.triggered,
    filled_notional: o.filledNotional,
    fees: o.fees,
    created_at: new Date(o.createdAt),
    updated_at: new Date(o.updatedAt),
  });
}

function compareKeyed<V>(
  what: string,
  actual: Array<{ key: string; value: V }>,
  expected: Array<{ key: string; value: V }>,
  report: (line: string) => void,
): void {
  const want = new Map(expected.map((e) => [e.key, JSON.stringify(e.value)]));
  const have = new Map(actual.map((a) => [a.key, JSON.stringify(a.value)]));
  for (const [key, value] of want) {
    const got = have.get(key);
    if (got === undefined) report(`${what} ${key}: missing from the table, replay has ${value}`);
    else if (got !== value) report(`${what} ${key}: table has ${got}, replay has ${value}`);
  }
  for (const [key, value] of have) {
    if (!want.has(key)) report(`${what} ${key}: in the table (${value}) but not in the replay`);
  }
}

/**
 * Recovery: rebuild the exchange from the last snapshot and the journal after it, and check the
 * derived tables against it.
 *
 * The journal is the truth. The derived tables (orders, accounts, positions, instruments,
 * exchange_state, …) follow it up to their watermark, exchange_state.last_seq (projector.ts);
 * snapshots (snapshots.ts) hold the whole engine after some entry. Recovery takes the newest
 * snapshot at or below the watermark, replays the journal after it, and hands the replayed
 * entries above the watermark to the projector (and those the bus has not been sent, above
 * exchange_state.published_seq, to the publisher). The replay checks that every command gets
 * the verdict it got the first time, so an engine or rule change that would rewrite history
 * stops the start. Once the tables caught up, they can be compared with the engine
 * (`compareDerivedTables`, on start by default): trading on top of state nobody can explain is
 * the one thing an exchange must not do.
 */
import { type ExchangeConfig, idsTaken, type OrderView } from '../../domain/exchange.ts';
import type { CreateExchange, Exchange, ExchangeState } from '../../engine/api.ts';
import type { Queryable } from '../../platform/db/types.ts';
import { archivedEntries, listSegments } from './archive.ts';
import { createIdempotencyWindow } from './idempotency.ts';
import { idempotencyKeys, type JournalEntry, readJournal } from './journal.ts';
import { type OrderViewRow, orderViewOfRow } from './mapping.ts';
import type { SequencedCommand, SequencerState } from './sequencer.ts';
import { loadSnapshot } from './snapshots.ts';

export class RecoveryError extends Error {
  constructor(
    message: string,
    readonly differences: string[] = [],
  ) {
    super(differences.length ? `${message}:\n  ${differences.join('\n  ')}` : message);
    this.name = 'RecoveryError';
  }
}

export interface RecoverOptions {
  createExchange: CreateExchange;
  exchangeConfig: ExchangeConfig;
  /** where pruned journal entries went (retention.ts); named in errors, read by full replays */
  archiveDir?: string;
}

/** What the sequencer resumes from, and what the projector and publisher still have to do. */
export interface Restored {
  engine: Exchange;
  lastSeq: number;
  lastOrderId: number;
  lastTs: number;
  /** the snapshot it started from (0: none, the whole journal) */
  snapshotSeq: number;
  /** journal entries replayed */
  replayed: number;
  /** the tables' watermark and the outbox's, as found */
  projectedSeq: number;
  publishedSeq: number;
  /** replayed entries above min(projectedSeq, publishedSeq) (and the snapshot), with their events */
  tail: SequencedCommand[];
}

async function watermarks(
  db: Queryable,
): Promise<{ projected: number; published: number; archived: number }> {
  const row = (
    await db.query<{ last_seq: number; published_seq: number; archived_seq: number }>(
      'SELECT last_seq, published_seq, archived_seq FROM exchange_state WHERE id = 1',
    )
  ).rows[0];
  return {
    projected: row?.last_seq ?? 0,
    published: row?.published_seq ?? 0,
    archived: row?.archived_seq ?? 0,
  };
}

/**
 * The whole journal after `afterSeq`: the archive's entries up to `archivedSeq`, then the table's.
 * A missing segment shows as a gap to the replay.
 */
async function* wholeJournal(
  db: Queryable,
  archiveDir: string | undefined,
  archivedSeq: number,
  afterSeq: number,
): AsyncGenerator<JournalEntry> {
  let last = afterSeq;
  if (afterSeq < archivedSeq) {
    if (archiveDir === undefined)
      throw new RecoveryError(
        `the journal up to seq ${archivedSeq} is archived, and no archive folder was given`,
      );
    for await (const entry of archivedEntries(archiveDir, afterSeq)) {
      if (entry.seq > archivedSeq) break;
      last = entry.seq;
      yield entry;
    }
  }
  yield* readJournal(db, last);
}

function verdictOf(command: SequencedCommand['command'], events: SequencedCommand['events']) {
  for (const e of events) if (e.type === 'rejected' && e.command === command.type) return e.reason;
  return null;
}

/**
 * Applies the journal after `fromSeq` to `engine`, checking each verdict; `each` sees every
 * entry as the sequencer had it (with its events).
 */
async function replayInto(
  entries: AsyncIterable<JournalEntry>,
  engine: Exchange,
  fromSeq: number,
  each: (entry: SequencedCommand) => void,
  untilSeq = Number.POSITIVE_INFINITY,
): Promise<{ lastSeq: number; lastOrderId: number; lastTs: number; replayed: number }> {
  let lastSeq = fromSeq;
  let lastOrderId = 0;
  let lastTs = 0;
  let replayed = 0;
  for await (const entry of entries) {
    if (entry.seq > untilSeq) break;
    if (entry.seq !== lastSeq + 1) {
      throw new RecoveryError(`journal gap: seq ${entry.seq} follows ${lastSeq}`);
    }
    const command = entry.command;
    const events = engine.apply(command);
    const verdict = verdictOf(command, events);
    if (verdict !== entry.rejectReason) {
      throw new RecoveryError(
        `replay diverged at seq ${entry.seq} (${command.type}): journaled verdict ` +
          `${entry.rejectReason ?? 'accepted'}, replay gives ${verdict ?? 'accepted'}`,
      );
    }
    lastSeq = entry.seq;
    lastTs = Math.max(lastTs, command.ts);
    replayed++;
    let clientOrderId: string | null = null;
    let key = entry.idempotencyKey;
    if (command.type === 'new_order') {
      lastOrderId = Math.max(lastOrderId, command.id + idsTaken(command) - 1);
      clientOrderId = (command as { clientOrderId?: string }).clientOrderId ?? null;
      if (clientOrderId !== null) key = idempotencyKeys.order(command.account, clientOrderId);
    }
    each({ seq: entry.seq, command, events, idempotencyKey: key, clientOrderId, rejectReason: verdict });
  }
  return { lastSeq, lastOrderId, lastTs, replayed };
}

/**
 * Replays the whole journal (or up to `untilSeq`) into a fresh engine: an independent check that
 * uses no snapshot and no table. Archived entries are read from `options.archiveDir`.
 */
export async function replayJournal(
  db: Queryable,
  options: RecoverOptions,
  untilSeq?: number,
): Promise<{ state: SequencerState; commands: number }> {
  const engine = options.createExchange(options.exchangeConfig);
  const { archived } = await watermarks(db);
  const r = await replayInto(
    wholeJournal(db, options.archiveDir, archived, 0),
    engine,
    0,
    () => {},
    untilSeq,
  );
  const idempotency = createIdempotencyWindow({ windowMs: 0, maxKeys: 0, coversSince: 0 });
  return {
    state: { engine, lastSeq: r.lastSeq, lastOrderId: r.lastOrderId, lastTs: r.lastTs, idempotency },
    commands: r.lastSeq,
  };
}

/**
 * The newest usable snapshot at or below the tables' watermark, plus the journal after it.
 * `onSkipped` hears of snapshots that could not be used (damaged, or of another format).
 */
export async function restore(
  db: Queryable,
  options: RecoverOptions,
  onSkipped: (seq: number, why: string) => void = () => {},
): Promise<Restored> {
  const { projected, published, archived } = await watermarks(db);
  // Not limited by `published`: a bus that lags must not make restarts replay the whole journal.
  // Events between it and the snapshot are then not sent again (the caller is told, `publishedSeq`).
  const snapshot = await loadSnapshot(db, projected, onSkipped);
  let engine: Exchange;
  try {
    engine = options.createExchange(options.exchangeConfig, snapshot?.engine);
  } catch (err) {
    // a snapshot under other rules (or a format this version cannot read) must not be skipped
    // silently: replaying the journal under other rules would rewrite history
    throw new RecoveryError(`snapshot at seq ${snapshot?.seq} cannot be restored: ${(err as Error).message}`);
  }
  const from = snapshot?.seq ?? 0;
  if (from < archived) {
    // recovery never reads the archive: it is outside the database's guarantees
    throw new RecoveryError(
      `the journal up to seq ${archived} was archived to ${options.archiveDir ?? 'BOURSE_ARCHIVE_DIR'}, ` +
        `and no usable snapshot covers it (${snapshot ? `newest usable: seq ${snapshot.seq}` : 'none usable'}); ` +
        'restore a backup, or run `bourse verify` to replay the archive and find what is damaged',
    );
  }
  const keepAbove = Math.min(projected, published);
  const tail: SequencedCommand[] = [];
  const r = await replayInto(readJournal(db, from), engine, from, (entry) => {
    if (entry.seq > keepAbove) tail.push(entry);
  });
  if (r.lastSeq < projected) {
    throw new RecoveryError(`the tables reflect the journal up to ${projected}, but it ends at ${r.lastSeq}`);
  }
  return {
    engine,
    lastSeq: r.lastSeq,
    lastOrderId: Math.max(snapshot?.lastOrderId ?? 0, r.lastOrderId),
    lastTs: Math.max(snapshot?.lastTs ?? 0, r.lastTs),
    snapshotSeq: from,
    replayed: r.replayed,
    projectedSeq: projected,
    publishedSeq: published,
    tail,
  };
}

/**
 * A hot standby's step (issue 11): applies the journal entries after `r.lastSeq` to `r.engine` and
 * moves `r` forward in place, keeping in `tail` only the entries that the tables or the outbox have
 * not covered yet (watermarks read first, so trimming never drops an uncovered entry). A standby
 * that ran this after the takeover's epoch increment holds exactly what `restore()` would return.
 * Returns how many entries it applied.
 */
export async function follow(db: Queryable, r: Restored): Promise<number> {
  const { projected, published } = await watermarks(db);
  const tail = r.tail;
  const step = await replayInto(readJournal(db, r.lastSeq), r.engine, r.lastSeq, (entry) => tail.push(entry));
  const keepAbove = Math.min(projected, published);
  r.tail = tail.filter((e) => e.seq > keepAbove);
  r.lastSeq = step.lastSeq;
  r.lastOrderId = Math.max(r.lastOrderId, step.lastOrderId);
  r.lastTs = Math.max(r.lastTs, step.lastTs);
  r.replayed += step.replayed;
  r.projectedSeq = projected;
  r.publishedSeq = published;
  return step.replayed;
}

export interface Verification {
  /** the tables' watermark, up to which everything was compared */
  seq: number;
  /** the snapshot checked against the baseline (0: none at or below the watermark) */
  snapshotSeq: number;
  /**
   * what the baseline replay started from: 0 for the whole journal (the archive, then the table),
   * else the seq of the oldest kept snapshot, when the archive is not at hand
   */
  baselineSeq: number;
  differences: string[];
}

/** Whether the archive's segments hold every entry from 1 to `archivedSeq`. */
async function archiveCovers(dir: string | undefined, archivedSeq: number): Promise<boolean> {
  if (archivedSeq === 0) return true;
  if (dir === undefined) return false;
  let next = 1;
  for (const s of await listSegments(dir)) {
    if (s.from > next) return false;
    next = Math.max(next, s.to + 1);
  }
  return next > archivedSeq;
}

/**
 * The offline check (`bourse verify`): a full replay of the journal from an empty engine (the
 * archive, then the table), up to the tables' watermark, compared with the derived tables and
 * with the newest snapshot plus the journal after it. When part of the journal was archived and
 * the archive is not at hand, the baseline is the oldest kept snapshot plus the journal after it
 * instead. Safe beside a running service (reads only); on a busy one the watermark moves on while
 * it runs, so run it on a stopped one or a copy for a clean answer.
 */
export async function verifyOrders(db: Queryable, options: RecoverOptions): Promise<Verification> {
  const { projected, archived } = await watermarks(db);
  const differences: string[] = [];
  let baselineSeq = 0;
  let baseline: Exchange;
  if (await archiveCovers(options.archiveDir, archived)) {
    baseline = (await replayJournal(db, options, projected)).state.engine;
  } else {
    const oldest = (await db.query<{ seq: number | null }>('SELECT min(seq) AS seq FROM orders_snapshots'))
      .rows[0]?.seq;
    const start = oldest == null ? null : await loadSnapshot(db, oldest, () => {});
    if (!start || start.seq < archived) {
      throw new RecoveryError(
        `the journal up to seq ${archived} is archived, the archive (${options.archiveDir ?? 'none given'}) ` +
          'does not hold all of it, and no kept snapshot covers it',
      );
    }
    baselineSeq = start.seq;
    baseline = options.createExchange(options.exchangeConfig, start.engine);
    await replayInto(readJournal(db, start.seq), baseline, start.seq, () => {}, projected);
  }
  const state = baseline.exportState();
  differences.push(...(await compareDerivedTables(db, state, projected)));
  const snapshot = await loadSnapshot(db, projected, (seq, why) =>
    differences.push(`snapshot ${seq} unusable: ${why}`),
  );
  if (snapshot && snapshot.seq >= baselineSeq) {
    const engine = options.createExchange(options.exchangeConfig, snapshot.engine);
    await replayInto(readJournal(db, snapshot.seq), engine, snapshot.seq, () => {}, projected);
    if (JSON.stringify(engine.exportState()) !== JSON.stringify(state)) {
      differences.push(
        `snapshot ${snapshot.seq} + journal ≠ ${baselineSeq ? `snapshot ${baselineSeq} + journal` : 'full replay'} at seq ${projected}`,
      );
    }
  }
  return { seq: projected, snapshotSeq: snapshot?.seq ?? 0, baselineSeq, differences };
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
            triggered, filled_notional, fees, created_at, updated_at, order_class, parent_id, trail_price,
            trail_bps, hwm, activation_price
       FROM orders WHERE status IN ('held', 'new', 'partially_filled')`,
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
    order_class: o.orderClass ?? 'simple',
    parent_id: o.parentId ?? null,
    trail_price: o.trailPrice ?? 0,
    trail_bps: o.trailBps ?? 0,
    hwm: o.hwm ?? 0,
    activation_price: o.activationPrice ?? 0,
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

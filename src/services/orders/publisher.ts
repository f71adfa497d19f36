/**
 * After a batch commits: move the committed views forward and publish its events (events.ts).
 * Publishing never blocks the next commit and its failures never undo an acknowledged command:
 * the database is the record, the bus a notification (consumers resynchronise by seq).
 *
 * The events are derived from committed journal entries, which makes the journal an outbox:
 * `publishedSeq` is how far every publish has settled, recorded by each projection
 * (exchange_state.published_seq); after a crash, recovery replays the entries above it and
 * `republish` sends their events again. Delivery is therefore at least once: consumers drop a
 * message whose seq they have seen.
 *
 * A publish the bus refuses (NATS down longer than its own reconnects and retries) is not counted
 * as settled: it is retried, oldest first, with backoff (100 ms doubling to 5 s), and `publishedSeq`
 * stays below its entry until it goes through, so a restart during the outage sends it again from
 * the journal. At most RETRY_QUEUE_MAX messages wait in memory; past that they are left to that
 * restart (the watermark cannot pass them) and an error says so once.
 */
import type { EngineEvent, OrderView, Side } from '../../domain/exchange.ts';
import type { Bus } from '../../platform/bus/types.ts';
import type { CommittedBook } from './committed-book.ts';
import type {
  AccountMessage,
  BookLevelChange,
  BookMessage,
  ExecMessage,
  HaltMessage,
  InstrumentMessage,
  SessionMessage,
  TradeMessage,
} from './events.ts';
import { subjects } from './events.ts';
import { balanceOf, isOpen, positionOf, toOrder } from './mapping.ts';
import type { Position } from './model.ts';
import { rejectedOrderView } from './persistence.ts';
import type { SequencedCommand } from './sequencer.ts';

export interface PublisherViews {
  book: CommittedBook;
  /** client order ids of open (or just closed) orders, by order id */
  clientOrderIds: Map<number, string>;
}

export interface Publisher {
  committed(batch: readonly SequencedCommand[], views: PublisherViews): void;
  /** Events of entries recovered from the journal (views are already past them: left alone). */
  republish(entries: readonly SequencedCommand[]): void;
  /** every event of the entries up to here has been handed to the bus and settled */
  publishedSeq(): number;
  /** Resolves when every publish issued so far has settled. */
  settled(): Promise<void>;
  /** messages refused by the bus and waiting to be sent again (0 when the bus is healthy) */
  retrying(): number;
  /**
   * Waits for what is in flight, gives refused messages up to `graceMs` to go through, then stops
   * retrying (what is left is above `publishedSeq`: the next start sends it).
   */
  close(graceMs?: number): Promise<void>;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;
export const RETRY_QUEUE_MAX = 100_000;

interface Unsettled {
  seq: number;
  left: number;
}

export function createPublisher(
  bus: Bus,
  onError: (err: unknown, subject: string) => void,
  publishedFrom = 0,
): Publisher {
  let outstanding = new Set<Promise<void>>();
  let published = publishedFrom;
  /** batches whose publishes have not all settled, in seq order */
  const unsettled: Unsettled[] = [];
  let current: Unsettled = { seq: 0, left: 0 };
  /** refused by the bus, oldest first */
  const retries: { subject: string; data: unknown; batch: Unsettled }[] = [];
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = RETRY_MIN_MS;
  let retryRunning: Promise<void> | null = null;
  let stopped = false;
  let overflowed = false;

  function advance(): void {
    while (unsettled.length > 0 && unsettled[0]!.left === 0) published = unsettled.shift()!.seq;
  }

  function settle(batch: Unsettled): void {
    batch.left--;
    advance();
  }

  function refused(subject: string, data: unknown, batch: Unsettled): void {
    if (retries.length >= RETRY_QUEUE_MAX) {
      // its batch never settles in this life: the watermark stays below it, the next start sends it
      if (!overflowed)
        onError(
          new Error(
            `more than ${RETRY_QUEUE_MAX} events wait for the bus; the rest are left to the next start`,
          ),
          subject,
        );
      overflowed = true;
      return;
    }
    retries.push({ subject, data, batch });
    schedule();
  }

  function schedule(): void {
    if (retryTimer || retryRunning || stopped || retries.length === 0) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      retryRunning = drain().finally(() => {
        retryRunning = null;
        schedule();
      });
    }, retryDelay);
    retryTimer.unref();
  }

  /** Sends the waiting messages in order; at the first refusal, backs off. */
  async function drain(): Promise<void> {
    while (retries.length > 0 && !stopped) {
      const head = retries[0]!;
      try {
        await bus.publish(head.subject, head.data);
      } catch (err) {
        onError(err, head.subject);
        retryDelay = Math.min(RETRY_MAX_MS, retryDelay * 2);
        return;
      }
      retries.shift();
      retryDelay = RETRY_MIN_MS;
      settle(head.batch);
    }
  }

  function send(subject: string, data: unknown): void {
    const batch = current;
    batch.left++;
    const p = bus.publish(subject, data).then(
      () => {
        outstanding.delete(p);
        settle(batch);
      },
      (err: unknown) => {
        outstanding.delete(p);
        onError(err, subject);
        refused(subject, data, batch);
      },
    );
    outstanding.add(p);
  }

  function committed(batch: readonly SequencedCommand[], views: PublisherViews, replay = false): void {
    current = { seq: batch[batch.length - 1]!.seq, left: 0 };
    unsettled.push(current);
    const last = batch[batch.length - 1]!;
    const books = new Map<string, Map<string, BookLevelChange>>();
    const balances = new Map<string, { cash: number; reserved: number }>();
    const positions = new Map<string, Map<string, Position>>();
    const closed: number[] = [];

    for (const entry of batch) {
      const { seq, command } = entry;
      const ts = command.ts;
      if (
        !replay &&
        command.type === 'new_order' &&
        entry.clientOrderId !== null &&
        entry.rejectReason === null
      ) {
        views.clientOrderIds.set(command.id, entry.clientOrderId);
      }
      for (const e of entry.events) {
        switch (e.type) {
          case 'accepted':
          case 'expired':
          case 'triggered':
          case 'released':
          case 'trailed':
            exec(seq, ts, e.type, e.order, {});
            break;
          case 'canceled':
            exec(seq, ts, 'canceled', e.order, { cancelReason: e.reason });
            break;
          case 'replaced':
            exec(seq, ts, 'replaced', e.order, { keptPriority: e.keptPriority });
            break;
          case 'fill':
            exec(seq, ts, 'fill', e.order, {
              fill: { tradeId: e.tradeId, price: e.price, qty: e.qty, fee: e.fee, liquidity: e.liquidity },
            });
            break;
          case 'rejected':
            rejected(entry, e);
            break;
          case 'trade':
            send(subjects.trade(e.symbol), {
              seq,
              tradeId: e.tradeId,
              ts: e.ts,
              symbol: e.symbol,
              price: e.price,
              qty: e.qty,
              aggressor: e.aggressor,
            } satisfies TradeMessage);
            break;
          case 'book_changed': {
            if (!replay) views.book.set(e.symbol, e.side, e.price, e.qty, e.orders);
            let levels = books.get(e.symbol);
            if (!levels) books.set(e.symbol, (levels = new Map()));
            levels.set(`${e.side}${e.price}`, {
              side: e.side as Side,
              price: e.price,
              qty: e.qty,
              orders: e.orders,
            });
            break;
          }
          case 'balance':
            balances.set(e.account, { cash: e.cash, reserved: e.reserved });
            break;
          case 'position': {
            let held = positions.get(e.account);
            if (!held) positions.set(e.account, (held = new Map()));
            held.set(e.symbol, positionOf(e.account, e.symbol, e.qty, e.reserved, e.cost));
            break;
          }
          case 'instrument':
            send(subjects.instrument, {
              seq,
              ts,
              instrument: { ...e.spec, halted: false, lastTradePrice: null },
            } satisfies InstrumentMessage);
            break;
          case 'halt':
            send(subjects.halt, { seq, ts, symbol: e.symbol, halted: e.halted } satisfies HaltMessage);
            break;
          case 'session':
            send(subjects.session, { seq, ts, state: e.state } satisfies SessionMessage);
            break;
        }
      }
    }

    function exec(
      seq: number,
      ts: number,
      kind: ExecMessage['kind'],
      view: OrderView,
      extra: Partial<ExecMessage>,
    ): void {
      const order = toOrder(
        view,
        views.clientOrderIds.get(view.id) ?? null,
        null,
        extra.cancelReason ?? null,
      );
      if (!isOpen(view.status)) closed.push(view.id);
      send(subjects.exec(view.account), {
        seq,
        ts,
        account: view.account,
        kind,
        order,
        ...extra,
      } satisfies ExecMessage);
    }

    function rejected(entry: SequencedCommand, e: Extract<EngineEvent, { type: 'rejected' }>): void {
      const command = entry.command;
      const account = e.account ?? ('account' in command ? command.account : undefined);
      if (account === undefined) return; // admin commands: the caller got the error synchronously
      const order =
        command.type === 'new_order'
          ? toOrder(rejectedOrderView(command), entry.clientOrderId, e.reason)
          : null;
      send(subjects.exec(account), {
        seq: entry.seq,
        ts: command.ts,
        account,
        kind: 'rejected',
        order,
        command: e.command,
        reason: e.reason,
        ...(command.type !== 'new_order' && e.id !== undefined ? { orderId: e.id } : {}),
      } satisfies ExecMessage);
    }

    const ts = last.command.ts;
    for (const [symbol, levels] of books) {
      send(subjects.book(symbol), {
        seq: last.seq,
        ts,
        symbol,
        levels: [...levels.values()],
      } satisfies BookMessage);
    }
    const accounts = new Set([...balances.keys(), ...positions.keys()]);
    for (const account of accounts) {
      const b = balances.get(account);
      send(subjects.account(account), {
        seq: last.seq,
        ts,
        account,
        balance: b ? balanceOf(account, b.cash, b.reserved) : null,
        positions: [...(positions.get(account)?.values() ?? [])],
      } satisfies AccountMessage);
    }
    if (!replay) for (const id of closed) views.clientOrderIds.delete(id);
    advance();
  }

  return {
    committed,
    republish(entries) {
      if (entries.length === 0) return;
      // client ids of the orders these entries created; older orders' messages carry null
      const clientOrderIds = new Map<number, string>();
      for (const e of entries) {
        if (e.command.type === 'new_order' && e.clientOrderId !== null)
          clientOrderIds.set(e.command.id, e.clientOrderId);
      }
      const views: PublisherViews = {
        book: { set() {}, depth: () => ({}) as never, has: () => false },
        clientOrderIds,
      };
      committed(entries, views, true);
    },
    publishedSeq: () => published,
    settled,
    retrying: () => retries.length,
    close: async (graceMs = 2_000) => {
      await settled();
      const deadline = Date.now() + graceMs;
      while ((retries.length > 0 || retryRunning) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      stopped = true;
      clearTimeout(retryTimer);
    },
  };

  async function settled(): Promise<void> {
    while (outstanding.size > 0) {
      const pending = outstanding;
      outstanding = new Set();
      await Promise.allSettled(pending);
    }
  }
}

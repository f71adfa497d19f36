/**
 * What a shard node publishes for the rest of the platform, in the orders service's own message
 * shapes (../events.ts), so market data, users and the gateway's trade stream read shards as they
 * read the single orders service: executions on the owner's risk shard (from the events settled
 * there), trades and book changes on the symbol's matching shard. Derived from the journal like the
 * messages between shards, and published after the commit, in journal order. Trade ids are unique
 * across matching shards (qualified where the matching shard maps its engine's ids), the same as
 * in the read tables (projection.ts).
 */
import type { EngineEvent } from '../../../domain/exchange.ts';
import type { ShardInput, ShardStep } from '../../../engine/shards/node.ts';
import type { RiskEvent } from '../../../engine/shards/risk-shard.ts';
import { type BookLevelChange, type ExecKind, type ExecMessage, subjects } from '../events.ts';
import { toOrder } from '../mapping.ts';
import { rejectedOrderView } from '../persistence.ts';

export interface Outgoing {
  subject: string;
  data: unknown;
}

export const shardSubject = (shard: number): string => `orders.shard.${shard}`;

/** the risk events that carry an order's new view: an execution message, and its row in the tables */
export const EXEC_KINDS: ReadonlySet<string> = new Set<string>([
  'accepted',
  'fill',
  'canceled',
  'expired',
  'replaced',
  'triggered',
  'released',
  'trailed',
]);

/** Everything one journaled input sends: messages to other shards, then events for the platform. */
export function outgoingOf(
  seq: number,
  input: ShardInput,
  step: ShardStep,
  clientIdOf: (orderId: number) => string | null,
): Outgoing[] {
  const out: Outgoing[] = step.messages.map((m) => ({ subject: shardSubject(m.env.to), data: m }));
  const ts = 'command' in input ? input.command.ts : input.kind === 'route' ? input.env.body.ts : 0;
  for (const ev of step.events) {
    const exec = execOf(seq, ts, ev, input, clientIdOf);
    if (exec) out.push({ subject: subjects.exec(exec.account), data: exec });
  }
  out.push(...marketOf(seq, ts, step.market));
  return out;
}

function execOf(
  seq: number,
  ts: number,
  ev: RiskEvent,
  input: ShardInput,
  clientIdOf: (orderId: number) => string | null,
): ExecMessage | null {
  if (ev.type === 'rejected') {
    if (ev.account === undefined) return null;
    const submitted =
      ev.command === 'new_order' && input.kind === 'command' && input.command.type === 'new_order'
        ? rejectedOrderView(input.command)
        : null;
    return {
      seq,
      ts,
      account: ev.account,
      kind: 'rejected',
      order:
        submitted && toOrder(submitted, input.kind === 'command' ? (input.key ?? null) : null, ev.reason),
      command: ev.command,
      reason: ev.reason,
      ...(ev.id !== undefined && { orderId: ev.id }),
    };
  }
  if (!('order' in ev) || !EXEC_KINDS.has(ev.type)) return null;
  const view = ev.order;
  const m: ExecMessage = {
    seq,
    ts: view.updatedAt || ts,
    account: view.account,
    kind: ev.type as ExecKind,
    order: toOrder(view, clientIdOf(view.id), null, ev.type === 'canceled' ? ev.reason : null),
  };
  if (ev.type === 'fill') {
    m.fill = { tradeId: ev.tradeId, price: ev.price, qty: ev.qty, fee: ev.fee, liquidity: ev.liquidity };
  }
  if (ev.type === 'canceled') m.cancelReason = ev.reason;
  if (ev.type === 'replaced') m.keptPriority = ev.keptPriority;
  return m;
}

/** Trades one by one; book levels conflated per symbol, as they stand after the input. */
function marketOf(seq: number, ts: number, events: EngineEvent[]): Outgoing[] {
  const out: Outgoing[] = [];
  const books = new Map<string, Map<string, BookLevelChange>>();
  for (const ev of events) {
    if (ev.type === 'trade') {
      out.push({
        subject: subjects.trade(ev.symbol),
        data: {
          seq,
          tradeId: ev.tradeId,
          ts: ev.ts,
          symbol: ev.symbol,
          price: ev.price,
          qty: ev.qty,
          aggressor: ev.aggressor,
        },
      });
    } else if (ev.type === 'book_changed') {
      let levels = books.get(ev.symbol);
      if (!levels) books.set(ev.symbol, (levels = new Map()));
      levels.set(`${ev.side}/${ev.price}`, {
        side: ev.side,
        price: ev.price,
        qty: ev.qty,
        orders: ev.orders,
      });
    }
  }
  for (const [symbol, levels] of books) {
    out.push({ subject: subjects.book(symbol), data: { seq, ts, symbol, levels: [...levels.values()] } });
  }
  return out;
}

/**
 * Order updates (`orders.exec.<account>`, published by the orders service after commit) → inbox
 * notifications for fills, cancels, expirations and rejections. An exchange account id is the
 * user's id; accounts that are not users (fee account, demo market maker) are skipped.
 *
 * The message comes over the network: it is checked field by field before use, and a message
 * whose subject and payload disagree about the account is dropped.
 */
import { type ExecMessage, subjects } from '../orders/events.ts';
import { centsToDecimal } from './money.ts';
import type { NewNotification } from './notifications.ts';

export const ORDER_EXEC_SUBJECTS = subjects.allExec;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length <= 200;

interface OrderLike {
  id: number;
  symbol: string;
  side: string;
  qty: number;
  filledQty: number;
  status: string;
  clientOrderId: string | null;
}

function orderOf(v: unknown): OrderLike | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (
    !isInt(o.id) ||
    !isStr(o.symbol) ||
    !isStr(o.side) ||
    !isInt(o.qty) ||
    !isInt(o.filledQty) ||
    !isStr(o.status)
  ) {
    return null;
  }
  const clientOrderId = isStr(o.clientOrderId) ? o.clientOrderId : null;
  return {
    id: o.id,
    symbol: o.symbol,
    side: o.side,
    qty: o.qty,
    filledQty: o.filledQty,
    status: o.status,
    clientOrderId,
  };
}

const orderData = (o: OrderLike) => ({
  order_id: String(o.id),
  client_order_id: o.clientOrderId,
  symbol: o.symbol,
  side: o.side,
  qty: String(o.qty),
  filled_qty: String(o.filledQty),
  status: o.status,
});

/** The notification an exec message calls for, or null (other kinds, foreign accounts, malformed). */
export function notificationFromExec(subject: string, raw: unknown): NewNotification | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const m = raw as Partial<Record<keyof ExecMessage, unknown>>;
  const account = subject.split('.')[2];
  if (!isStr(m.account) || m.account !== account || !UUID_RE.test(m.account) || !isInt(m.seq)) return null;
  const order = m.order === null || m.order === undefined ? null : orderOf(m.order);
  const userId = m.account;
  const key = (suffix: string) => `orders/${m.seq}/${m.kind}/${suffix}`;

  switch (m.kind) {
    case 'fill': {
      const f = m.fill as Record<string, unknown> | undefined;
      if (!order || !f || !isInt(f.tradeId) || !isInt(f.price) || !isInt(f.qty) || !isInt(f.fee)) return null;
      const verb = order.side === 'buy' ? 'Bought' : 'Sold';
      return {
        userId,
        kind: 'order_fill',
        title: `${verb} ${f.qty} ${order.symbol} at ${centsToDecimal(f.price)}`,
        data: {
          ...orderData(order),
          fill_qty: String(f.qty),
          fill_price: centsToDecimal(f.price),
          fee: centsToDecimal(f.fee),
          trade_id: String(f.tradeId),
        },
        dedupeKey: key(`${order.id}/${f.tradeId}`),
      };
    }
    case 'canceled':
      if (!order) return null;
      return {
        userId,
        kind: 'order_canceled',
        title: `Order for ${order.qty} ${order.symbol} canceled`,
        data: { ...orderData(order), reason: isStr(m.cancelReason) ? m.cancelReason : null },
        dedupeKey: key(String(order.id)),
      };
    case 'expired':
      if (!order) return null;
      return {
        userId,
        kind: 'order_expired',
        title: `Order for ${order.qty} ${order.symbol} expired`,
        data: orderData(order),
        dedupeKey: key(String(order.id)),
      };
    case 'rejected': {
      const command = isStr(m.command) ? m.command : 'command';
      const reason = isStr(m.reason) ? m.reason : 'rejected';
      const orderId = order?.id ?? (isInt(m.orderId) ? m.orderId : null);
      const what = order ? `Order for ${order.qty} ${order.symbol}` : `${command.replace(/_/g, ' ')} request`;
      return {
        userId,
        kind: 'order_rejected',
        title: `${what} rejected: ${reason.replace(/_/g, ' ')}`,
        data: {
          ...(order ? orderData(order) : { order_id: orderId === null ? null : String(orderId) }),
          command,
          reason,
        },
        dedupeKey: key(`${command}/${orderId ?? ''}`),
      };
    }
    default:
      return null;
  }
}

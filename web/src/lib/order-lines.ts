/**
 * The exit levels of an account's open order classes, as horizontal lines for the chart: each
 * take-profit at its limit price and each stop-loss at its stop price. A trailing stop-loss's stop
 * price is the current one, so its line moves with the high-water mark as the orders are reloaded.
 */
import type { Order } from '../types.ts';

export interface OrderLine {
  /** order id: one line per leg */
  id: string;
  kind: 'take_profit' | 'stop_loss';
  /** dollars */
  price: number;
  title: string;
}

const OPEN = new Set(['held', 'new', 'partially_filled', 'accepted', 'pending_new']);

export function orderLines(orders: readonly Order[], symbol: string): OrderLine[] {
  const out: OrderLine[] = [];
  for (const o of orders) {
    if (o.symbol !== symbol || !OPEN.has(o.status)) continue;
    const cls = o.order_class ?? 'simple';
    if (cls === 'simple') continue;
    // A bracket's or oto's entry carries its legs; an oco's limit does too, and is its take-profit.
    const isEntry = (o.legs?.length ?? 0) > 0 && cls !== 'oco';
    if (o.type === 'limit' && !isEntry && o.limit_price !== null) {
      out.push({ id: o.id, kind: 'take_profit', price: Number(o.limit_price), title: 'TP' });
    } else if (o.type !== 'limit' && o.type !== 'market' && o.stop_price) {
      const trailing = o.type === 'trailing_stop';
      out.push({
        id: o.id,
        kind: 'stop_loss',
        price: Number(o.stop_price),
        title: trailing ? 'Trail SL' : 'SL',
      });
    }
  }
  return out;
}

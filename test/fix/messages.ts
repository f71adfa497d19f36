/** FIX 4.4 application messages as the test client sends them, and checks on what comes back. */
import { expect } from 'vitest';
import type { Received } from './client.ts';

export interface OrderFields {
  side?: string;
  qty?: number | string;
  price?: string;
  stopPx?: string;
  ordType?: string;
  tif?: string;
  symbol?: string;
  account?: string;
  extra?: Record<string, unknown>;
}

export function newOrder(clOrdId: string, f: OrderFields = {}): Record<string, unknown> {
  const body: Record<string, unknown> = { ClOrdID: clOrdId };
  if (f.account) body.Account = f.account;
  Object.assign(body, {
    Instrument: { Symbol: f.symbol ?? 'ACME' },
    Side: f.side ?? '1',
    TransactTime: new Date(),
    OrderQtyData: { OrderQty: String(f.qty ?? 10) },
    OrdType: f.ordType ?? '2',
  });
  if (f.price !== undefined) body.Price = f.price;
  if (f.stopPx !== undefined) body.StopPx = f.stopPx;
  if (f.tif !== undefined) body.TimeInForce = f.tif;
  return { ...body, ...f.extra };
}

export function cancel(
  clOrdId: string,
  origClOrdId: string,
  f: { side?: string; symbol?: string; orderId?: string } = {},
) {
  const body: Record<string, unknown> = { OrigClOrdID: origClOrdId };
  if (f.orderId) body.OrderID = f.orderId;
  return {
    ...body,
    ClOrdID: clOrdId,
    Instrument: { Symbol: f.symbol ?? 'ACME' },
    Side: f.side ?? '1',
    TransactTime: new Date(),
  };
}

export function replace(
  clOrdId: string,
  origClOrdId: string,
  f: { qty: number; price?: string; side?: string; ordType?: string; symbol?: string },
) {
  const body: Record<string, unknown> = {
    OrigClOrdID: origClOrdId,
    ClOrdID: clOrdId,
    Instrument: { Symbol: f.symbol ?? 'ACME' },
    Side: f.side ?? '1',
    TransactTime: new Date(),
    OrderQtyData: { OrderQty: String(f.qty) },
    OrdType: f.ordType ?? '2',
  };
  if (f.price !== undefined) body.Price = f.price;
  return body;
}

export function statusRequest(clOrdId: string, f: { side?: string; reqId?: string; orderId?: string } = {}) {
  const body: Record<string, unknown> = {};
  if (f.orderId) body.OrderID = f.orderId;
  body.ClOrdID = clOrdId;
  if (f.reqId) body.OrdStatusReqID = f.reqId;
  return { ...body, Instrument: { Symbol: 'ACME' }, Side: f.side ?? '1' };
}

/** An ExecutionReport with the fields FIX 4.4 requires of every one. */
export function expectExecutionReport(m: Received, fields: Record<number, string> = {}): void {
  expect(m.msgType).toBe('8');
  for (const tag of [37, 17, 150, 39, 55, 54, 151, 14, 6, 60]) {
    expect(m.get(tag), `tag ${tag} in ${m.raw}`).toBeDefined();
  }
  for (const [tag, value] of Object.entries(fields))
    expect(m.get(Number(tag)), `tag ${tag} in ${m.raw}`).toBe(value);
}

export const isReport = (clOrdId: string, execType: string) => (m: Received) =>
  m.msgType === '8' && m.get(11) === clOrdId && m.get(150) === execType;

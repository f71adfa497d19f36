import { type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../api.ts';
import { useApi } from '../hooks.ts';
import { useFrame } from '../lib/frame.ts';
import { fmtCents, fmtQty, toCents } from '../lib/money.ts';
import { livePnl } from '../lib/pnl.ts';
import { parsePrice, parseQty, typeLabel } from '../lib/ticket.ts';
import { state, store } from '../market.ts';
import type { Fill, Order, Position } from '../types.ts';
import { PnL } from './PnL.tsx';
import { toast } from './Toasts.tsx';

type Tab = 'orders' | 'closed' | 'positions' | 'fills';
/** closed orders shown: the newest */
const CLOSED_LIMIT = 50;

export function AccountPanels({
  orders,
  positions,
  fills,
  onChanged,
}: {
  orders: Order[] | null;
  positions: Position[] | null;
  fills: Fill[] | null;
  onChanged: () => void;
}) {
  const [tab, setTab] = useState<Tab>('orders');
  const tabs: [Tab, string][] = [
    ['orders', `Open orders (${orders?.length ?? 0})`],
    ['closed', 'Closed orders'],
    ['positions', `Positions (${positions?.length ?? 0})`],
    ['fills', 'Fills'],
  ];
  function onKey(e: KeyboardEvent) {
    const i = tabs.findIndex(([t]) => t === tab);
    const d = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!d) return;
    const next = tabs[(i + d + tabs.length) % tabs.length]![0];
    setTab(next);
    document.getElementById(`tab-${next}`)?.focus();
  }
  return (
    <section className="panel account-panels">
      <div role="tablist" aria-label="Account" onKeyDown={onKey}>
        {tabs.map(([t, label]) => (
          <button
            key={t}
            id={`tab-${t}`}
            type="button"
            role="tab"
            aria-selected={tab === t}
            aria-controls={`panel-${t}`}
            tabIndex={tab === t ? 0 : -1}
            onClick={() => setTab(t)}
          >
            {label}
          </button>
        ))}
      </div>
      <div id={`panel-${tab}`} role="tabpanel" aria-labelledby={`tab-${tab}`}>
        {tab === 'orders' && <OpenOrders orders={orders} onChanged={onChanged} />}
        {tab === 'closed' && <ClosedOrders openOrders={orders} />}
        {tab === 'positions' && <Positions positions={positions} />}
        {tab === 'fills' && <Fills fills={fills} />}
      </div>
    </section>
  );
}

function OpenOrders({ orders, onChanged }: { orders: Order[] | null; onChanged: () => void }) {
  const [editing, setEditing] = useState<string | null>(null);
  if (!orders) return <p className="muted">Loading orders…</p>;
  if (orders.length === 0) return <p className="muted">No open orders.</p>;
  async function cancel(o: Order) {
    try {
      await api(`/v2/orders/${o.id}`, { method: 'DELETE' });
      toast(`Cancel sent: ${o.side} ${o.qty} ${o.symbol}`);
    } catch (err) {
      toast(`Cancel refused: ${err instanceof ApiError ? err.message : String(err)}`, 'bad');
    }
    onChanged();
  }
  return (
    <table aria-label="Open orders">
      <thead>
        <tr>
          <th scope="col">Symbol</th>
          <th scope="col">Side</th>
          <th scope="col">Type</th>
          <th scope="col" className="r">
            Qty
          </th>
          <th scope="col" className="r">
            Filled
          </th>
          <th scope="col" className="r">
            Limit
          </th>
          <th scope="col" className="r">
            Stop
          </th>
          <th scope="col">Status</th>
          <th scope="col">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {orders.map((o) => {
          const name = `${o.side} ${o.qty} ${o.symbol}${o.limit_price ? ` at ${o.limit_price}` : ''}`;
          return editing === o.id ? (
            <tr key={o.id}>
              <td colSpan={9}>
                <ModifyForm
                  order={o}
                  onDone={() => {
                    setEditing(null);
                    onChanged();
                  }}
                />
              </td>
            </tr>
          ) : (
            <tr key={o.id} data-order-id={o.id}>
              <td>{o.symbol}</td>
              <td className={o.side}>{o.side}</td>
              <td>{typeLabel[o.type]}</td>
              <td className="r num">{fmtQty(o.qty)}</td>
              <td className="r num">{fmtQty(o.filled_qty)}</td>
              <td className="r num">{o.limit_price ?? '—'}</td>
              <td className="r num">{o.stop_price ?? '—'}</td>
              <td>{o.status}</td>
              <td className="actions">
                <button type="button" aria-label={`Modify order ${name}`} onClick={() => setEditing(o.id)}>
                  Modify
                </button>
                <button type="button" aria-label={`Cancel order ${name}`} onClick={() => void cancel(o)}>
                  Cancel
                </button>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Filled, cancelled, expired and rejected orders, newest first; read again when the open ones change. */
function ClosedOrders({ openOrders }: { openOrders: Order[] | null }) {
  const { load, reload } = useApi<Order[]>('/v2/orders', {
    query: { status: 'closed', limit: CLOSED_LIMIT, direction: 'desc' },
  });
  const seen = useRef(openOrders);
  useEffect(() => {
    if (seen.current === openOrders) return;
    seen.current = openOrders;
    void reload();
  }, [openOrders, reload]);
  if (load.state === 'loading') return <p className="muted">Loading closed orders…</p>;
  if (load.state !== 'ok') return <p className="unavailable">Closed orders: {load.message}</p>;
  if (load.data.length === 0) return <p className="muted">No closed orders yet.</p>;
  return (
    <table aria-label="Closed orders">
      <thead>
        <tr>
          <th scope="col">Submitted</th>
          <th scope="col">Symbol</th>
          <th scope="col">Side</th>
          <th scope="col">Type</th>
          <th scope="col" className="r">
            Qty
          </th>
          <th scope="col" className="r">
            Filled
          </th>
          <th scope="col" className="r">
            Avg price
          </th>
          <th scope="col" className="r">
            Limit
          </th>
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {load.data.map((o) => (
          <tr key={o.id} data-order-id={o.id}>
            <td className="num muted">{new Date(o.created_at).toLocaleString()}</td>
            <td>{o.symbol}</td>
            <td className={o.side}>{o.side}</td>
            <td>{typeLabel[o.type]}</td>
            <td className="r num">{fmtQty(o.qty)}</td>
            <td className="r num">{fmtQty(o.filled_qty)}</td>
            <td className="r num">{o.filled_avg_price ?? '—'}</td>
            <td className="r num">{o.limit_price ?? '—'}</td>
            <td>{o.status.replace(/_/g, ' ')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ModifyForm({ order, onDone }: { order: Order; onDone: () => void }) {
  const [qty, setQty] = useState(order.qty);
  const [limit, setLimit] = useState(order.limit_price ?? '');
  const [error, setError] = useState<string | null>(null);
  async function save(e: FormEvent) {
    e.preventDefault();
    const body: Record<string, string> = {};
    const q = parseQty(qty);
    if ('error' in q) return setError(q.error);
    if (String(q.qty) !== order.qty) body.qty = String(q.qty);
    if (order.limit_price !== null) {
      const p = parsePrice(limit, 'Limit price');
      if ('error' in p) return setError(p.error);
      if (p.cents !== toCents(order.limit_price)) body.limit_price = (p.cents / 100).toFixed(2);
    }
    if (Object.keys(body).length === 0) return onDone();
    try {
      await api(`/v2/orders/${order.id}`, { method: 'PATCH', body });
      toast(
        `Order modified: ${order.symbol} ${body.qty ?? order.qty} @ ${body.limit_price ?? order.limit_price}`,
      );
      onDone();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  }
  return (
    <form className="modify" onSubmit={save} aria-label={`Modify order ${order.symbol}`}>
      <label>
        New quantity
        <input value={qty} onChange={(e) => setQty(e.target.value)} inputMode="numeric" />
      </label>
      {order.limit_price !== null && (
        <label>
          New limit price
          <input value={limit} onChange={(e) => setLimit(e.target.value)} inputMode="decimal" />
        </label>
      )}
      <button type="submit" className="primary">
        Save
      </button>
      <button type="button" onClick={onDone}>
        Keep as is
      </button>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

export function Positions({ positions }: { positions: Position[] | null }) {
  useFrame(store);
  if (!positions) return <p className="muted">Loading positions…</p>;
  if (positions.length === 0) return <p className="muted">No positions.</p>;
  let total = 0;
  const rows = positions.map((p) => {
    const pnl = livePnl(p, state.quotes.get(p.symbol)?.lastCents);
    total += pnl.unrealisedCents ?? 0;
    return (
      <tr key={p.symbol} data-symbol={p.symbol}>
        <td>{p.symbol}</td>
        <td className="r num">{fmtQty(p.qty)}</td>
        <td className="r num">{p.avg_entry_price}</td>
        <td className="r num">{fmtCents(pnl.priceCents)}</td>
        <td className="r num">{fmtCents(pnl.marketValueCents)}</td>
        <td className="r">
          <PnL cents={pnl.unrealisedCents} ratio={pnl.ratio} label={`${p.symbol} unrealised`} />
        </td>
      </tr>
    );
  });
  return (
    <table aria-label="Positions">
      <thead>
        <tr>
          <th scope="col">Symbol</th>
          <th scope="col" className="r">
            Qty
          </th>
          <th scope="col" className="r">
            Avg entry
          </th>
          <th scope="col" className="r">
            Last
          </th>
          <th scope="col" className="r">
            Value
          </th>
          <th scope="col" className="r">
            Unrealised P&amp;L
          </th>
        </tr>
      </thead>
      <tbody>{rows}</tbody>
      <tfoot>
        <tr>
          <th scope="row" colSpan={5}>
            Total unrealised
          </th>
          <td className="r">
            <PnL cents={total} label="Total unrealised" />
          </td>
        </tr>
      </tfoot>
    </table>
  );
}

function Fills({ fills }: { fills: Fill[] | null }) {
  if (!fills) return <p className="muted">Loading fills…</p>;
  if (fills.length === 0) return <p className="muted">No fills yet.</p>;
  return (
    <table aria-label="Fills">
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Symbol</th>
          <th scope="col">Side</th>
          <th scope="col" className="r">
            Qty
          </th>
          <th scope="col" className="r">
            Price
          </th>
        </tr>
      </thead>
      <tbody>
        {fills.map((f) => (
          <tr key={f.id}>
            <td className="num muted">
              {f.transaction_time ? new Date(f.transaction_time).toLocaleTimeString() : ''}
            </td>
            <td>{f.symbol}</td>
            <td className={f.side}>{f.side}</td>
            <td className="r num">{fmtQty(f.qty ?? null)}</td>
            <td className="r num">{f.price}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

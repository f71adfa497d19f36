import { type FormEvent, useEffect, useState } from 'react';
import { ApiError, api } from '../api.ts';
import { useApi } from '../hooks.ts';
import { fmtCents } from '../lib/money.ts';
import { parsePrice } from '../lib/ticket.ts';
import { onNotification } from '../notifications.ts';
import { LoadState } from './Unavailable.tsx';

export interface PriceAlert {
  id: string;
  symbol: string;
  condition: 'above' | 'below';
  price: string;
  status: 'active' | 'triggered';
  created_at: string;
  triggered_at: string | null;
  triggered_price: string | null;
}

/**
 * Price alerts (the users service's /alerts): set one for the symbol shown, at or above / at or
 * below a price; the list shows every alert, active first. A triggered alert arrives as a
 * notification, which is the cue to read the list again.
 */
export function Alerts({ symbol, lastCents }: { symbol: string; lastCents: number | null }) {
  const { load, reload } = useApi<{ alerts: PriceAlert[] }>('/alerts', { query: { limit: 100 } });
  useEffect(() => onNotification(() => void reload()), [reload]);
  const [condition, setCondition] = useState<'above' | 'below'>('above');
  const [price, setPrice] = useState('');
  const [error, setError] = useState<string | null>(null);

  async function create(e: FormEvent) {
    e.preventDefault();
    const p = parsePrice(price, 'Alert price');
    if ('error' in p) return setError(p.error);
    setError(null);
    try {
      await api('/alerts', {
        method: 'POST',
        body: { symbol, condition, price: (p.cents / 100).toFixed(2) },
      });
      setPrice('');
      void reload();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  }
  async function remove(a: PriceAlert) {
    try {
      await api(`/alerts/${a.id}`, { method: 'DELETE' });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
    void reload();
  }

  const list =
    load.state === 'ok'
      ? [...load.data.alerts].sort((a, b) => (a.status === b.status ? 0 : a.status === 'active' ? -1 : 1))
      : [];
  return (
    <section className="panel alerts" aria-labelledby="alerts-title">
      <h2 id="alerts-title">Price alerts</h2>
      <form className="alert-form" onSubmit={create} aria-label={`New price alert for ${symbol}`}>
        <span>{symbol}</span>
        <label>
          <span className="sr-only">Condition</span>
          <select value={condition} onChange={(e) => setCondition(e.target.value as 'above' | 'below')}>
            <option value="above">at or above</option>
            <option value="below">at or below</option>
          </select>
        </label>
        <label>
          <span className="sr-only">Alert price</span>
          <input
            value={price}
            onChange={(e) => setPrice(e.target.value)}
            inputMode="decimal"
            placeholder={lastCents === null ? 'price' : fmtCents(lastCents).replace(/,/g, '')}
            aria-invalid={error !== null}
          />
        </label>
        <button type="submit">Set alert</button>
      </form>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {load.state !== 'ok' ? (
        <LoadState load={load} what="Alerts" />
      ) : list.length === 0 ? (
        <p className="muted">No alerts.</p>
      ) : (
        <ul aria-label="Your price alerts">
          {list.map((a) => {
            const name = `${a.symbol} ${a.condition === 'above' ? 'at or above' : 'at or below'} ${a.price}`;
            return (
              <li key={a.id} data-status={a.status}>
                <span>{name}</span>{' '}
                <span className="muted small">
                  {a.status === 'triggered'
                    ? `triggered${a.triggered_price ? ` at ${a.triggered_price}` : ''}`
                    : 'active'}
                </span>{' '}
                <button
                  type="button"
                  className="link"
                  aria-label={`Delete alert ${name}`}
                  onClick={() => void remove(a)}
                >
                  Delete
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

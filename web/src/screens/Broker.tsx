/** Broker console: the brokerage's clients, their balances/positions/orders, acting for one, the brokerage report. */
import { type FormEvent, useState } from 'react';
import { ApiError, api } from '../api.ts';
import { LoadState } from '../components/Unavailable.tsx';
import { useApi } from '../hooks.ts';
import { fmtCents, toCents } from '../lib/money.ts';
import type { Account, Me, Order, Position } from '../types.ts';

interface UserRow {
  id: string;
  username: string;
  email: string;
  role: string;
  brokerage_id: string | null;
}

const iso = (d: Date) => d.toISOString().slice(0, 10);

function Funding({ client, onDone }: { client: UserRow; onDone: () => void }) {
  const [amount, setAmount] = useState('');
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  async function move(direction: 'deposit' | 'withdraw') {
    setMsg(null);
    try {
      await api('/v1/admin/funding', {
        method: 'POST',
        body: { account_id: client.id, direction, amount, idempotency_key: crypto.randomUUID() },
      });
      setMsg({ ok: true, text: `${direction === 'deposit' ? 'Deposited' : 'Withdrew'} ${amount}` });
      setAmount('');
      onDone();
    } catch (err) {
      setMsg({ ok: false, text: err instanceof ApiError ? err.message : String(err) });
    }
  }
  return (
    <div className="funding">
      <label>
        Amount (USD)
        <input inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
      </label>
      <div className="buttons">
        <button type="button" onClick={() => void move('deposit')}>
          Deposit
        </button>
        <button type="button" onClick={() => void move('withdraw')}>
          Withdraw
        </button>
      </div>
      {msg && (
        <p className={msg.ok ? 'result ok' : 'result bad'} role={msg.ok ? 'status' : 'alert'}>
          {msg.text}
        </p>
      )}
    </div>
  );
}

function ClientDetail({ client, onAct }: { client: UserRow; onAct: (id: string, name: string) => void }) {
  const q = { account_id: client.id };
  const account = useApi<Account>('/v2/account', { query: q, acting: false }, 5_000);
  const positions = useApi<Position[]>('/v2/positions', { query: q, acting: false }, 5_000);
  const orders = useApi<Order[]>('/v2/orders', { query: { ...q, status: 'open' }, acting: false }, 5_000);
  const a = account.load.state === 'ok' ? account.load.data : null;
  return (
    <section className="panel" aria-labelledby="client-title">
      <div className="panel-head">
        <h2 id="client-title">Client {client.username}</h2>
        <button type="button" className="primary" onClick={() => onAct(client.id, client.username)}>
          Trade for {client.username}
        </button>
      </div>
      <Funding client={client} onDone={() => void account.reload()} />
      {a ? (
        <dl className="kv">
          <dt>Equity</dt>
          <dd className="num">{fmtCents(toCents(a.equity))}</dd>
          <dt>Cash</dt>
          <dd className="num">{fmtCents(toCents(a.cash))}</dd>
          <dt>Buying power</dt>
          <dd className="num">{fmtCents(toCents(a.buying_power))}</dd>
        </dl>
      ) : (
        <LoadState load={account.load} what="Account" />
      )}
      <h3>Positions</h3>
      {positions.load.state === 'ok' ? (
        positions.load.data.length === 0 ? (
          <p className="muted">No positions.</p>
        ) : (
          <table aria-label={`Positions of ${client.username}`}>
            <tbody>
              {positions.load.data.map((p) => (
                <tr key={p.symbol}>
                  <td>{p.symbol}</td>
                  <td className="r num">{p.qty}</td>
                  <td className="r num">{p.market_value}</td>
                  <td className="r num">{p.unrealized_pl}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : (
        <LoadState load={positions.load} what="Positions" />
      )}
      <h3>Open orders</h3>
      {orders.load.state === 'ok' ? (
        orders.load.data.length === 0 ? (
          <p className="muted">No open orders.</p>
        ) : (
          <table aria-label={`Open orders of ${client.username}`}>
            <tbody>
              {orders.load.data.map((o) => (
                <tr key={o.id}>
                  <td>{o.symbol}</td>
                  <td>{o.side}</td>
                  <td className="r num">{o.qty}</td>
                  <td className="r num">{o.limit_price ?? 'market'}</td>
                  <td>{o.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : (
        <LoadState load={orders.load} what="Orders" />
      )}
    </section>
  );
}

export default function Broker({ me, onAct }: { me: Me; onAct: (id: string, name: string) => void }) {
  const clients = useApi<{ users: UserRow[] }>('/users', { query: { role: 'investor', limit: 100 } });
  const [selected, setSelected] = useState<UserRow | null>(null);
  const [form, setForm] = useState({ username: '', email: '', password: '' });
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const today = new Date();
  const report = useApi<Record<string, unknown>>('/v1/reports/brokerage', {
    query: { from: iso(new Date(today.getTime() - 30 * 86_400_000)), to: iso(today) },
    acting: false,
  });

  async function create(e: FormEvent) {
    e.preventDefault();
    try {
      const u = await api<UserRow>('/users', { method: 'POST', body: form });
      setMsg({ ok: true, text: `Client ${u.username} created` });
      setForm({ username: '', email: '', password: '' });
      void clients.reload();
    } catch (err) {
      setMsg({ ok: false, text: err instanceof ApiError ? err.message : String(err) });
    }
  }
  const list = clients.load.state === 'ok' ? clients.load.data.users : [];
  return (
    <div className="console">
      <h1>Broker console</h1>
      <p className="muted">
        {me.role === 'admin' ? 'All investors' : `Clients of your brokerage (${me.brokerage_id ?? 'none'})`}
      </p>
      <div className="console-grid">
        <section className="panel" aria-labelledby="clients-title">
          <h2 id="clients-title">Clients</h2>
          {clients.load.state !== 'ok' ? (
            <LoadState load={clients.load} what="Clients" />
          ) : list.length === 0 ? (
            <p className="muted">No clients yet.</p>
          ) : (
            <ul className="clients">
              {list.map((u) => (
                <li key={u.id}>
                  <button
                    type="button"
                    className="link"
                    aria-pressed={selected?.id === u.id}
                    onClick={() => setSelected(u)}
                  >
                    {u.username}
                  </button>{' '}
                  <span className="muted small">{u.email}</span>
                </li>
              ))}
            </ul>
          )}
          <form onSubmit={create} aria-label="New client">
            <h3>New client</h3>
            <label>
              Client username
              <input
                value={form.username}
                onChange={(e) => setForm({ ...form, username: e.target.value })}
                required
              />
            </label>
            <label>
              Client email
              <input
                type="email"
                value={form.email}
                onChange={(e) => setForm({ ...form, email: e.target.value })}
                required
              />
            </label>
            <label>
              Client password
              <input
                type="password"
                autoComplete="new-password"
                value={form.password}
                onChange={(e) => setForm({ ...form, password: e.target.value })}
                required
              />
            </label>
            <button type="submit">Create client</button>
            {msg && (
              <p className={msg.ok ? 'result ok' : 'result bad'} role={msg.ok ? 'status' : 'alert'}>
                {msg.text}
              </p>
            )}
          </form>
        </section>
        {selected ? (
          <ClientDetail key={selected.id} client={selected} onAct={onAct} />
        ) : (
          <p className="muted">Choose a client.</p>
        )}
        <section className="panel" aria-labelledby="brep-title">
          <h2 id="brep-title">Brokerage report (30 days)</h2>
          {report.load.state !== 'ok' ? (
            <LoadState load={report.load} what="Brokerage report" />
          ) : (
            <pre className="json">{JSON.stringify(report.load.data, null, 2).slice(0, 4000)}</pre>
          )}
        </section>
      </div>
    </div>
  );
}

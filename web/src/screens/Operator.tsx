/** Operator (admin) console: exchange status, symbols, halts, session, feeds, users and brokerages, edge status. */
import { type FormEvent, useState } from 'react';
import { ApiError, api } from '../api.ts';
import { toast } from '../components/Toasts.tsx';
import { LoadState } from '../components/Unavailable.tsx';
import { useApi } from '../hooks.ts';
import type { Asset } from '../types.ts';

interface UserRow {
  id: string;
  username: string;
  email: string;
  role: string;
  brokerage_id: string | null;
}
interface Brokerage {
  id: string;
  name: string;
}

async function act(what: string, fn: () => Promise<unknown>, after?: () => void): Promise<void> {
  try {
    await fn();
    toast(`${what}: done`, 'good');
    after?.();
  } catch (err) {
    toast(`${what}: ${err instanceof ApiError ? err.message : String(err)}`, 'bad');
  }
}

function Json({ value }: { value: unknown }) {
  return <pre className="json">{JSON.stringify(value, null, 2).slice(0, 6000)}</pre>;
}

export default function Operator() {
  const status = useApi<Record<string, unknown>>('/v1/admin/status', {}, 5_000);
  const instruments = useApi<unknown>('/v1/admin/instruments');
  const assets = useApi<Asset[]>('/v2/assets');
  const feeds = useApi<unknown>('/v1/market-data/feeds/status', {}, 10_000);
  const users = useApi<{ users: UserRow[] }>('/users', { query: { limit: 100 } });
  const brokerages = useApi<{ brokerages: Brokerage[] }>('/brokerages', { query: { limit: 100 } });
  const [haltSymbol, setHaltSymbol] = useState('');
  const [session, setSession] = useState<'pre_open' | 'open' | 'closed'>('open');
  const [inst, setInst] = useState({
    symbol: '',
    reference_price: '',
    tick_size: '0.01',
    price_band_pct: '10',
    collar_pct: '5',
  });
  const [newBrokerage, setNewBrokerage] = useState('');
  const [newUser, setNewUser] = useState({
    username: '',
    email: '',
    password: '',
    role: 'broker',
    brokerage_id: '',
  });

  const halt = (halted: boolean) =>
    act(
      `${halted ? 'Halt' : 'Resume'} ${haltSymbol || 'market'}`,
      () =>
        api('/v1/admin/halts', {
          method: 'POST',
          body: { ...(haltSymbol && { symbol: haltSymbol }), halted },
        }),
      () => void status.reload(),
    );

  const instrumentList =
    instruments.load.state === 'ok'
      ? ((Array.isArray(instruments.load.data)
          ? instruments.load.data
          : ((instruments.load.data as { instruments?: unknown[] }).instruments ?? [])) as Record<
          string,
          unknown
        >[])
      : assets.load.state === 'ok'
        ? (assets.load.data as unknown as Record<string, unknown>[])
        : [];

  return (
    <div className="console">
      <h1>Operator console</h1>
      <div className="console-grid">
        <section className="panel" aria-labelledby="op-status">
          <h2 id="op-status">Exchange and gateway status</h2>
          {status.load.state === 'ok' ? (
            <Json value={status.load.data} />
          ) : (
            <LoadState load={status.load} what="Admin status" />
          )}
        </section>

        <section className="panel" aria-labelledby="op-halts">
          <h2 id="op-halts">Halts and session</h2>
          <label>
            Symbol to halt (empty: whole market)
            <input value={haltSymbol} onChange={(e) => setHaltSymbol(e.target.value.toUpperCase())} />
          </label>
          <div className="buttons">
            <button type="button" className="danger" onClick={() => void halt(true)}>
              Halt
            </button>
            <button type="button" onClick={() => void halt(false)}>
              Resume
            </button>
          </div>
          <form
            onSubmit={(e: FormEvent) => {
              e.preventDefault();
              void act(
                `Session ${session}`,
                () => api('/v1/admin/session', { method: 'POST', body: { state: session } }),
                () => void status.reload(),
              );
            }}
          >
            <label>
              Session
              <select
                aria-label="Session"
                value={session}
                onChange={(e) => setSession(e.target.value as typeof session)}
              >
                <option value="pre_open">Pre-open</option>
                <option value="open">Open</option>
                <option value="closed">Closed</option>
              </select>
            </label>
            <button type="submit">Set session</button>
          </form>
        </section>

        <section className="panel" aria-labelledby="op-symbols">
          <h2 id="op-symbols">Symbols and rules</h2>
          {instruments.load.state !== 'ok' && <LoadState load={instruments.load} what="Instrument admin" />}
          <table aria-label="Symbols">
            <tbody>
              {instrumentList.map((i) => (
                <tr key={String(i.symbol)}>
                  <td>{String(i.symbol)}</td>
                  <td className="small muted">
                    {Object.entries(i)
                      .filter(([k, v]) => k !== 'symbol' && k !== 'id' && typeof v !== 'object')
                      .slice(0, 6)
                      .map(([k, v]) => `${k}=${String(v)}`)
                      .join(' ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <form
            aria-label="List a symbol"
            onSubmit={(e) => {
              e.preventDefault();
              void act(
                `List ${inst.symbol}`,
                () =>
                  api('/v1/admin/instruments', {
                    method: 'POST',
                    body: {
                      symbol: inst.symbol,
                      reference_price: inst.reference_price,
                      tick_size: inst.tick_size,
                      price_band_pct: Number(inst.price_band_pct),
                      collar_pct: Number(inst.collar_pct),
                    },
                  }),
                () => void instruments.reload(),
              );
            }}
          >
            <label>
              New symbol
              <input
                value={inst.symbol}
                onChange={(e) => setInst({ ...inst, symbol: e.target.value.toUpperCase() })}
              />
            </label>
            <label>
              Tick size
              <input
                inputMode="decimal"
                value={inst.tick_size}
                onChange={(e) => setInst({ ...inst, tick_size: e.target.value })}
              />
            </label>
            <label>
              Price band %
              <input
                inputMode="decimal"
                value={inst.price_band_pct}
                onChange={(e) => setInst({ ...inst, price_band_pct: e.target.value })}
              />
            </label>
            <label>
              Collar %
              <input
                inputMode="decimal"
                value={inst.collar_pct}
                onChange={(e) => setInst({ ...inst, collar_pct: e.target.value })}
              />
            </label>
            <label>
              Reference price
              <input
                inputMode="decimal"
                value={inst.reference_price}
                onChange={(e) => setInst({ ...inst, reference_price: e.target.value })}
              />
            </label>
            <button type="submit">List symbol</button>
          </form>
        </section>

        <section className="panel" aria-labelledby="op-feeds">
          <h2 id="op-feeds">Feed health</h2>
          {feeds.load.state === 'ok' ? (
            <Json value={feeds.load.data} />
          ) : (
            <LoadState load={feeds.load} what="Feed status" />
          )}
        </section>

        <section className="panel" aria-labelledby="op-brokerages">
          <h2 id="op-brokerages">Brokerages</h2>
          {brokerages.load.state === 'ok' ? (
            <ul>
              {brokerages.load.data.brokerages.map((b) => (
                <li key={b.id}>
                  {b.name} <span className="muted small">{b.id}</span>
                </li>
              ))}
            </ul>
          ) : (
            <LoadState load={brokerages.load} what="Brokerages" />
          )}
          <form
            aria-label="New brokerage"
            onSubmit={(e) => {
              e.preventDefault();
              void act(
                `Brokerage ${newBrokerage}`,
                () => api('/brokerages', { method: 'POST', body: { name: newBrokerage } }),
                () => {
                  setNewBrokerage('');
                  void brokerages.reload();
                },
              );
            }}
          >
            <label>
              Brokerage name
              <input value={newBrokerage} onChange={(e) => setNewBrokerage(e.target.value)} required />
            </label>
            <button type="submit">Create brokerage</button>
          </form>
        </section>

        <section className="panel" aria-labelledby="op-users">
          <h2 id="op-users">Users</h2>
          {users.load.state === 'ok' ? (
            <table aria-label="Users">
              <tbody>
                {users.load.data.users.map((u) => (
                  <tr key={u.id}>
                    <td>{u.username}</td>
                    <td>{u.role}</td>
                    <td className="small muted">{u.brokerage_id ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <LoadState load={users.load} what="Users" />
          )}
          <form
            aria-label="New user"
            onSubmit={(e) => {
              e.preventDefault();
              const body = {
                username: newUser.username,
                email: newUser.email,
                password: newUser.password,
                role: newUser.role,
                ...(newUser.brokerage_id && { brokerage_id: newUser.brokerage_id }),
              };
              void act(
                `User ${newUser.username}`,
                () => api('/users', { method: 'POST', body }),
                () => void users.reload(),
              );
            }}
          >
            <label>
              Username
              <input
                value={newUser.username}
                onChange={(e) => setNewUser({ ...newUser, username: e.target.value })}
                required
              />
            </label>
            <label>
              Email
              <input
                type="email"
                value={newUser.email}
                onChange={(e) => setNewUser({ ...newUser, email: e.target.value })}
                required
              />
            </label>
            <label>
              Password
              <input
                type="password"
                autoComplete="new-password"
                value={newUser.password}
                onChange={(e) => setNewUser({ ...newUser, password: e.target.value })}
                required
              />
            </label>
            <label>
              Role
              <select
                aria-label="Role"
                value={newUser.role}
                onChange={(e) => setNewUser({ ...newUser, role: e.target.value })}
              >
                <option value="investor">Investor</option>
                <option value="broker">Broker</option>
                <option value="admin">Admin</option>
              </select>
            </label>
            <label>
              Brokerage
              <select
                aria-label="Brokerage"
                value={newUser.brokerage_id}
                onChange={(e) => setNewUser({ ...newUser, brokerage_id: e.target.value })}
              >
                <option value="">(default)</option>
                {brokerages.load.state === 'ok' &&
                  brokerages.load.data.brokerages.map((b) => (
                    <option key={b.id} value={b.id}>
                      {b.name}
                    </option>
                  ))}
              </select>
            </label>
            <button type="submit">Create user</button>
          </form>
        </section>
      </div>
    </div>
  );
}

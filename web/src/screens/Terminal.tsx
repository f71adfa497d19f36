import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { actingFor, api, onSessionChange } from '../api.ts';
import { AccountPanels } from '../components/AccountPanels.tsx';
import { AccountStrip } from '../components/AccountStrip.tsx';
import { Alerts } from '../components/Alerts.tsx';
import { ConnBanner } from '../components/ConnBanner.tsx';
import { Inbox } from '../components/Inbox.tsx';
import { News } from '../components/News.tsx';
import { OrderBook } from '../components/OrderBook.tsx';
import { SymbolSearch } from '../components/SymbolSearch.tsx';
import { Tape } from '../components/Tape.tsx';
import { Ticket } from '../components/Ticket.tsx';
import { Watchlist } from '../components/Watchlist.tsx';
import { readHoldings } from '../lib/equity.ts';
import { useFrame } from '../lib/frame.ts';
import { toCents } from '../lib/money.ts';
import { orderLines } from '../lib/order-lines.ts';
import { useShortcuts } from '../lib/shortcuts.ts';
import type { SymbolEntry } from '../lib/symbols.ts';
import { loadWatchlist, saveWatchlist } from '../lib/watchlist.ts';
import {
  loadReferences,
  onOrderEvent,
  setSymbols,
  startMarket,
  state,
  stopMarket,
  store,
} from '../market.ts';
import { onNotification, startNotifications, stopNotifications } from '../notifications.ts';
import type { Account, Asset, Fill, Me, Order, Position } from '../types.ts';

const Chart = lazy(() => import('../components/Chart.tsx'));
const SELECTED_KEY = 'bourse.symbol';
const ACCOUNT_POLL_MS = 3_000;

interface AccountData {
  account: Account | null;
  orders: Order[] | null;
  positions: Position[] | null;
  fills: Fill[] | null;
}

/** The account's state, re-read every few seconds and at once when an order event or notification says so. */
function useAccountData(): [AccountData, () => void] {
  const [data, setData] = useState<AccountData>({
    account: null,
    orders: null,
    positions: null,
    fills: null,
  });
  const [actingKey, setActingKey] = useState(actingFor());
  const inflight = useRef(false);
  const again = useRef(false);
  useEffect(() => onSessionChange(() => setActingKey(actingFor())), []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: actingKey changes the account read
  const reload = useCallback(async () => {
    if (inflight.current) {
      again.current = true;
      return;
    }
    inflight.current = true;
    try {
      const [holdings, orders, fills] = await Promise.allSettled([
        // cash and positions of one instant: the header's equity adds them up (AccountStrip)
        readHoldings(
          () => api<Account>('/v2/account'),
          () => api<Position[]>('/v2/positions'),
        ),
        api<Order[]>('/v2/orders', { query: { status: 'open', limit: 100 } }),
        api<Fill[]>('/v2/account/activities', { query: { activity_types: 'FILL', page_size: 50 } }),
      ]);
      setData((d) => ({
        account: holdings.status === 'fulfilled' ? holdings.value.account : d.account,
        orders: orders.status === 'fulfilled' ? orders.value : d.orders,
        positions: holdings.status === 'fulfilled' ? holdings.value.positions : d.positions,
        fills: fills.status === 'fulfilled' ? fills.value : d.fills,
      }));
    } finally {
      inflight.current = false;
      if (again.current) {
        again.current = false;
        void reload();
      }
    }
  }, [actingKey]);
  useEffect(() => {
    setData({ account: null, orders: null, positions: null, fills: null });
    void reload();
    const t = setInterval(() => {
      if (document.visibilityState !== 'hidden') void reload();
    }, ACCOUNT_POLL_MS);
    const off1 = onNotification(() => void reload());
    const off2 = onOrderEvent(() => void reload());
    return () => {
      clearInterval(t);
      off1();
      off2();
    };
  }, [reload]);
  return [data, reload];
}

/**
 * Everything the symbol search offers: market data's instruments (listed, quoted by a feed, or
 * imported history), else the listed assets. Read when the terminal opens and on each search.
 */
function useSearchableSymbols(assets: Asset[] | null, searching: boolean): SymbolEntry[] | null {
  const [instruments, setInstruments] = useState<SymbolEntry[] | null>(null);
  const [failed, setFailed] = useState(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: searching re-reads the list
  useEffect(() => {
    api<{ instruments: SymbolEntry[] }>('/v1/market-data/instruments')
      .then((r) => setInstruments(r.instruments))
      .catch(() => setFailed(true));
  }, [searching]);
  if (instruments) {
    const known = new Set(instruments.map((i) => i.symbol));
    const listed = (assets ?? []).filter((a) => !known.has(a.symbol));
    return [...instruments, ...listed.map((a) => ({ symbol: a.symbol, source: 'exchange', tradable: true }))];
  }
  if (failed && assets) return assets.map((a) => ({ symbol: a.symbol, source: 'exchange', tradable: true }));
  return null;
}

export function Terminal({ me }: { me: Me }) {
  const [assets, setAssets] = useState<Asset[] | null>(null);
  const [assetsError, setAssetsError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string>(() => localStorage.getItem(SELECTED_KEY) ?? 'AAPL');
  const [picked, setPicked] = useState<{ cents: number; n: number } | null>(null);
  const [sideRequest, setSideRequest] = useState<{ side: 'buy' | 'sell'; n: number } | null>(null);

  const [searching, setSearching] = useState(false);
  // B / S: buy / sell in the ticket; "/": the symbol search (never while typing in a field)
  useShortcuts({
    onSide: (side) => setSideRequest((r) => ({ side, n: (r?.n ?? 0) + 1 })),
    onSearch: () => setSearching(true),
  });
  const [data, reload] = useAccountData();
  useFrame(store);

  useEffect(() => {
    api<Asset[]>('/v2/assets')
      .then((a) => setAssets(a.filter((x) => x.tradable)))
      .catch((err: Error) => setAssetsError(err.message));
  }, []);
  const searchable = useSearchableSymbols(assets, searching);

  // the user's own list once they edit it; until then the first 30 listed symbols
  const [watch, setWatch] = useState<string[] | null>(loadWatchlist);
  const editWatch = (next: string[]) => {
    saveWatchlist(next);
    setWatch(next);
  };
  const known = useMemo(() => (searchable ? new Set(searchable.map((e) => e.symbol)) : null), [searchable]);

  const symbols = useMemo(() => {
    const list = [...(watch ?? (assets ?? []).map((a) => a.symbol).slice(0, 30))];
    for (const p of data.positions ?? []) if (!list.includes(p.symbol)) list.push(p.symbol);
    // a symbol picked in the search (imported history, a feed's symbol) joins the list while shown
    if (assets && !list.includes(selected)) list.push(selected);
    return list;
  }, [assets, watch, data.positions, selected]);
  const watched = watch ?? (assets ?? []).map((a) => a.symbol).slice(0, 30);

  useEffect(() => {
    if (!assets || assets.length === 0 || assets.some((a) => a.symbol === selected)) return;
    // a saved symbol that is neither listed nor known to market data any more: the first listed one
    if (searchable && !searchable.some((e) => e.symbol === selected)) setSelected(assets[0]!.symbol);
  }, [assets, searchable, selected]);
  useEffect(() => localStorage.setItem(SELECTED_KEY, selected), [selected]);

  useEffect(() => {
    startMarket();
    startNotifications();
    return () => {
      stopMarket();
      stopNotifications();
    };
  }, []);
  useEffect(() => setSymbols(symbols, selected), [symbols, selected]);
  const symbolKey = symbols.join(',');
  useEffect(() => {
    void loadReferences(symbolKey ? symbolKey.split(',') : []);
    const t = setInterval(() => void loadReferences(symbolKey ? symbolKey.split(',') : []), 60_000);
    return () => clearInterval(t);
  }, [symbolKey]);

  const q = state.quotes.get(selected);
  const position = data.positions?.find((p) => p.symbol === selected);
  const context = {
    buyingPowerCents: toCents(data.account?.buying_power),
    availableShares: data.positions === null ? null : Number(position?.qty_available ?? 0),
    lastCents: q?.lastCents ?? null,
    bidCents: q?.bidCents ?? null,
    askCents: q?.askCents ?? null,
  };
  const ownPrices = new Set(
    (data.orders ?? [])
      .filter((o) => o.symbol === selected && o.limit_price)
      .map((o) => toCents(o.limit_price) ?? 0),
  );

  return (
    <div className="terminal">
      <div className="status-row">
        <ConnBanner />
        <AccountStrip account={data.account} positions={data.positions} />
        {actingFor() && <span className="acting-note">Orders go to the client's account</span>}
        <span className="muted small">
          Keys: <kbd>B</kbd> buy · <kbd>S</kbd> sell · <kbd>/</kbd> symbols · ↑↓ in lists ({me.username})
        </span>
      </div>
      {assetsError && (
        <p className="error" role="alert">
          Symbols: {assetsError}
        </p>
      )}
      {searching && (
        <SymbolSearch
          symbols={searchable}
          onClose={() => setSearching(false)}
          onPick={(symbol) => {
            setSelected(symbol);
            setSearching(false);
          }}
        />
      )}
      <div className="grid">
        <Watchlist
          symbols={symbols}
          selected={selected}
          onSelect={setSelected}
          known={known}
          onAdd={(s) => {
            editWatch([...watched, s]);
            setSelected(s);
          }}
          onRemove={(s) => {
            const rest = watched.filter((x) => x !== s);
            editWatch(rest);
            if (s === selected && rest[0]) setSelected(rest[0]);
          }}
        />
        <div className="col-center">
          <Suspense fallback={<section className="panel chart">Loading chart…</section>}>
            <Chart symbol={selected} levels={orderLines(data.orders ?? [], selected)} />
          </Suspense>
          <AccountPanels
            orders={data.orders}
            positions={data.positions}
            fills={data.fills}
            onChanged={() => void reload()}
          />
        </div>
        <div className="col-side">
          <Ticket
            symbol={selected}
            context={context}
            pickedPrice={picked}
            sideRequest={sideRequest}
            onPlaced={() => void reload()}
          />
          <OrderBook
            symbol={selected}
            ownPrices={ownPrices}
            onPrice={(cents) => setPicked((p) => ({ cents, n: (p?.n ?? 0) + 1 }))}
          />
        </div>
        <div className="col-right">
          <Tape symbol={selected} />
          <News symbol={selected} />
          <Alerts symbol={selected} lastCents={q?.lastCents ?? null} />
          <Inbox />
        </div>
      </div>
    </div>
  );
}

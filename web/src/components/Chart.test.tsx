// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { orderLines } from '../lib/order-lines.ts';
import type { Order } from '../types.ts';

// lightweight-charts draws on a canvas, which happy-dom has not: a stand-in records the price
// lines, the candles set, and the visible range (the user scrolls by moving it).
type Range = { from: number; to: number };
const created: { price: number; title: string; color?: string }[] = [];
const removed: unknown[] = [];
const view: {
  range: Range | null;
  listeners: Set<(r: Range | null) => void>;
  candles: { time: number }[];
  candleOptions: Record<string, unknown>[];
  volume: { color: string }[];
  /** indicator series alive: kind, pane, points */
  added: { kind: string; pane: number; points: number; removed: boolean }[];
} = { range: null, listeners: new Set(), candles: [], candleOptions: [], volume: [], added: [] };
const scrollTo = (r: Range) => {
  view.range = r;
  for (const l of view.listeners) l(r);
};
vi.mock('lightweight-charts', () => {
  const series = (
    kind: { candles?: boolean; histogram?: boolean },
    options?: Record<string, unknown>,
    pane?: number,
  ) => {
    if (kind.candles && options) view.candleOptions.push(options);
    // the volume is the histogram without a pane; indicators always name theirs
    const volume = kind.histogram && pane === undefined;
    const entry =
      pane === undefined
        ? null
        : { kind: kind.histogram ? 'histogram' : 'line', pane, points: 0, removed: false };
    if (entry) view.added.push(entry);
    return {
      entry,
      setData: (data: { time: number; color: string }[]) => {
        if (kind.candles) view.candles = data;
        if (volume) view.volume = data;
        if (entry) entry.points = data.length;
      },
      applyOptions: (o: Record<string, unknown>) => {
        if (kind.candles) view.candleOptions.push(o);
      },
      createPriceLine: (o: { price: number; title: string }) => {
        created.push(o);
        return o;
      },
      removePriceLine: (line: unknown) => removed.push(line),
    };
  };
  return {
    CandlestickSeries: { candles: true },
    HistogramSeries: { histogram: true },
    LineSeries: {},
    LineStyle: { Dashed: 2 },
    createChart: () => ({
      addSeries: series,
      removeSeries: (s: { entry: { removed: boolean } | null }) => {
        if (s.entry) s.entry.removed = true;
      },
      priceScale: () => ({ applyOptions: () => {} }),
      timeScale: () => ({
        fitContent: () => scrollTo({ from: 0, to: Math.max(view.candles.length - 1, 0) }),
        getVisibleLogicalRange: () => view.range,
        setVisibleLogicalRange: (r: Range) => scrollTo(r),
        subscribeVisibleLogicalRangeChange: (l: (r: Range | null) => void) => view.listeners.add(l),
        unsubscribeVisibleLogicalRangeChange: (l: (r: Range | null) => void) => view.listeners.delete(l),
      }),
      applyOptions: () => {},
      remove: () => {},
    }),
  };
});
// the API: never answers, unless a test gives it a history to serve
const api = vi.fn(
  (_path: string, _opts?: { query?: Record<string, unknown> }): Promise<unknown> => new Promise(() => {}),
);
vi.mock('../api.ts', () => ({
  ApiError: class extends Error {},
  api: (path: string, opts?: { query?: Record<string, unknown> }) => api(path, opts),
}));

const { default: Chart } = await import('./Chart.tsx');

afterEach(cleanup);

const leg = (o: Partial<Order>): Order => ({
  id: 'x',
  client_order_id: 'x',
  created_at: '2026-01-01T00:00:00Z',
  symbol: 'ACME',
  qty: '5',
  filled_qty: '0',
  filled_avg_price: null,
  type: 'limit',
  side: 'sell',
  time_in_force: 'gtc',
  limit_price: null,
  stop_price: null,
  status: 'new',
  order_class: 'bracket',
  ...o,
});

describe('bracket levels on the chart', () => {
  it("draws a bracket's take-profit and stop-loss as price lines; the trailing stop's line moves with its mark", () => {
    const entry = leg({ id: 'e', side: 'buy', limit_price: '100.00', legs: [] });
    entry.legs = [leg({ id: 'tp' }), leg({ id: 'sl' })];
    const orders = [
      entry,
      leg({ id: 'tp', limit_price: '105.00' }),
      leg({ id: 'sl', type: 'trailing_stop', stop_price: '98.00', hwm: '100.00', trail_percent: '2' }),
      leg({ id: 'plain', order_class: 'simple', limit_price: '101.00' }),
    ];
    const levels = orderLines(orders, 'ACME');
    expect(levels.map((l) => [l.id, l.kind, l.price])).toEqual([
      ['tp', 'take_profit', 105],
      ['sl', 'stop_loss', 98],
    ]);
    const { rerender } = render(<Chart symbol="ACME" levels={levels} />);
    expect(created.map((l) => [l.title, l.price])).toEqual([
      ['TP', 105],
      ['Trail SL', 98],
    ]);

    // the mark rises to 102.00: the trailing stop's line follows
    const moved = orderLines(
      [orders[1]!, leg({ id: 'sl', type: 'trailing_stop', stop_price: '99.96', hwm: '102.00' })],
      'ACME',
    );
    rerender(<Chart symbol="ACME" levels={moved} />);
    expect(removed).toHaveLength(2);
    expect(created.slice(2).map((l) => [l.title, l.price])).toEqual([
      ['TP', 105],
      ['Trail SL', 99.96],
    ]);
  });
});

describe('history paging', () => {
  // 1,200 daily bars of an imported file that ended in 2001
  const DAY = 86_400_000;
  const t0 = Date.parse('1997-09-01T00:00:00Z');
  const history = Array.from({ length: 1200 }, (_, i) => ({
    t: new Date(t0 + i * DAY).toISOString(),
    o: 10 + i / 100,
    h: 11 + i / 100,
    l: 9 + i / 100,
    c: 10.5 + i / 100,
    v: 1000 + i,
  }));
  // the market-data rule: without start, the newest `limit` bars before `end`
  const served: Record<string, unknown>[] = [];
  function serve() {
    api.mockImplementation(async (path, opts) => {
      const q = opts?.query ?? {};
      if (!path.endsWith('/bars')) return new Promise(() => {});
      served.push(q);
      const end = q.end === undefined ? Number.POSITIVE_INFINITY : Date.parse(String(q.end));
      const before = history.filter((b) => Date.parse(b.t) < end);
      return { bars: before.slice(-Number(q.limit)) };
    });
  }
  const figure = () => screen.getByRole('figure');

  it('shows the newest page of imported history, and a page further back each time the view reaches the left edge', async () => {
    serve();
    render(<Chart symbol="OLDCO" />);
    await waitFor(() => expect(figure().getAttribute('data-bars')).toBe('500'));
    expect(figure().getAttribute('data-source')).toBe('history');
    expect(served).toEqual([{ timeframe: '1Min', limit: 500 }]);
    // the newest 150 shown, the newest bar is the file's last
    expect(view.range).toEqual({ from: 350, to: 502 });
    expect(view.candles.at(-1)!.time).toBe(Date.parse(history.at(-1)!.t) / 1000);

    // scrolled, but not to the edge: nothing more is asked
    await act(async () => scrollTo({ from: 100, to: 250 }));
    expect(served).toHaveLength(1);

    await act(async () => scrollTo({ from: 3, to: 153 }));
    await waitFor(() => expect(figure().getAttribute('data-bars')).toBe('1000'));
    expect(served[1]).toEqual({ timeframe: '1Min', end: history[700]!.t, limit: 500 });
    // the same candles stay in view: the range moved by the 500 bars put in front
    expect(view.range).toEqual({ from: 503, to: 653 });
    expect(view.candles[0]!.time).toBe(Date.parse(history[200]!.t) / 1000);
    const times = view.candles.map((c) => c.time);
    expect(times).toEqual([...times].sort((a, b) => a - b));

    // the last page is short: the start of the file is reached, and nothing is asked after it
    await act(async () => scrollTo({ from: 0, to: 150 }));
    await waitFor(() => expect(figure().getAttribute('data-older')).toBe('done'));
    expect(figure().getAttribute('data-bars')).toBe('1200');
    expect(served[2]).toMatchObject({ end: history[200]!.t });
    expect(view.candles[0]!.time).toBe(t0 / 1000);
    await act(async () => scrollTo({ from: 0, to: 150 }));
    expect(served).toHaveLength(3);
  });
});

describe('theme', () => {
  it('draws candles, volume and order levels in the theme colours, and follows a theme change', async () => {
    const root = document.documentElement.style;
    root.setProperty('--up', 'rgb(0, 100, 0)');
    root.setProperty('--down', 'rgb(100, 0, 0)');
    root.setProperty('--up-dim', 'rgb(0, 50, 0)');
    root.setProperty('--down-dim', 'rgb(50, 0, 0)');
    api.mockImplementation(async (path) =>
      path.endsWith('/bars')
        ? {
            bars: [
              { t: '2026-01-01T00:00:00Z', o: 10, h: 12, l: 9, c: 11, v: 100 },
              { t: '2026-01-01T00:01:00Z', o: 11, h: 11, l: 8, c: 9, v: 200 },
            ],
          }
        : new Promise(() => {}),
    );
    view.candleOptions = [];
    created.length = 0;
    const tp = { id: 'tp', kind: 'take_profit' as const, price: 105, title: 'TP' };
    render(<Chart symbol="ACME" levels={[tp]} />);
    await waitFor(() => expect(view.volume).toHaveLength(2));
    expect(view.candleOptions.at(-1)).toMatchObject({
      upColor: 'rgb(0, 100, 0)',
      downColor: 'rgb(100, 0, 0)',
    });
    expect(view.volume.map((v) => v.color)).toEqual(['rgb(0, 50, 0)', 'rgb(50, 0, 0)']);
    expect(created.at(-1)?.color).toBe('rgb(0, 100, 0)');

    // the light theme's colours (or any other): the chart takes them without a reload
    root.setProperty('--up', 'rgb(0, 200, 0)');
    root.setProperty('--down', 'rgb(200, 0, 0)');
    root.setProperty('--up-dim', 'rgb(0, 150, 0)');
    root.setProperty('--down-dim', 'rgb(150, 0, 0)');
    await act(async () => {
      window.dispatchEvent(new CustomEvent('bourse-theme', { detail: 'light' }));
    });
    expect(view.candleOptions.at(-1)).toMatchObject({
      upColor: 'rgb(0, 200, 0)',
      downColor: 'rgb(200, 0, 0)',
      wickUpColor: 'rgb(0, 200, 0)',
      wickDownColor: 'rgb(200, 0, 0)',
    });
    expect(view.volume.map((v) => v.color)).toEqual(['rgb(0, 150, 0)', 'rgb(150, 0, 0)']);
    expect(created.at(-1)).toMatchObject({ title: 'TP', color: 'rgb(0, 200, 0)' });
  });
});

describe('indicator panes', () => {
  it('draws RSI, MACD (lines and histogram) and ATR each in its own pane below the candles, computed here when the service has none', async () => {
    // 120 one-minute bars, a saw-tooth: every indicator warms up
    const bars = Array.from({ length: 120 }, (_, i) => {
      const c = 100 + ((i * 7) % 13) - 6 + i / 10;
      return {
        t: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
        o: c - 0.5,
        h: c + 1,
        l: c - 1,
        c,
        v: 100,
      };
    });
    api.mockImplementation(async (path) => {
      if (path.endsWith('/bars')) return { bars };
      throw new Error('indicators unavailable');
    });
    view.added = [];
    render(<Chart symbol="ACME" />);
    await waitFor(() => expect(screen.getByRole('figure').getAttribute('data-bars')).toBe('120'));
    const live = () =>
      view.added
        .filter((a) => !a.removed)
        .map((a) => [a.kind, a.pane, a.points > 0])
        .sort((a, b) => Number(a[1]) - Number(b[1]) || String(a[0]).localeCompare(String(b[0])));

    for (const name of ['RSI 14', 'MACD', 'ATR 14']) fireEvent.click(screen.getByLabelText(name));
    await waitFor(() => expect(live()).toHaveLength(5));
    expect(live()).toEqual([
      ['line', 1, true], // RSI
      ['histogram', 2, true], // MACD histogram
      ['line', 2, true], // MACD
      ['line', 2, true], // signal
      ['line', 3, true], // ATR
    ]);
    expect(screen.getByRole('figure').getAttribute('data-panes')).toBe('3');

    // RSI off: MACD and ATR move up a pane, nothing is left in an empty one
    fireEvent.click(screen.getByLabelText('RSI 14'));
    await waitFor(() => expect(live()).toHaveLength(4));
    expect(live()).toEqual([
      ['histogram', 1, true],
      ['line', 1, true],
      ['line', 1, true],
      ['line', 2, true],
    ]);
    // an overlay stays on the candles' pane
    fireEvent.click(screen.getByLabelText('SMA 20'));
    await waitFor(() => expect(live()).toHaveLength(5));
    expect(live()[0]).toEqual(['line', 0, true]);
  });
});

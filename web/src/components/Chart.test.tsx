// @vitest-environment happy-dom
import { cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { orderLines } from '../lib/order-lines.ts';
import type { Order } from '../types.ts';

// lightweight-charts draws on a canvas, which happy-dom has not: a stand-in records the price lines.
const created: { price: number; title: string }[] = [];
const removed: unknown[] = [];
vi.mock('lightweight-charts', () => {
  const series = () => ({
    setData: () => {},
    applyOptions: () => {},
    createPriceLine: (o: { price: number; title: string }) => {
      created.push(o);
      return o;
    },
    removePriceLine: (line: unknown) => removed.push(line),
  });
  return {
    CandlestickSeries: {},
    HistogramSeries: {},
    LineSeries: {},
    LineStyle: { Dashed: 2 },
    createChart: () => ({
      addSeries: series,
      removeSeries: () => {},
      priceScale: () => ({ applyOptions: () => {} }),
      timeScale: () => ({ fitContent: () => {} }),
      applyOptions: () => {},
      remove: () => {},
    }),
  };
});
vi.mock('../api.ts', () => ({
  ApiError: class extends Error {},
  api: () => new Promise(() => {}),
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

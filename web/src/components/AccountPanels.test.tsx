// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Order } from '../types.ts';

// the API: closed orders served from a list the test changes
let closed: Order[] = [];
const calls: { path: string; query?: Record<string, unknown> }[] = [];
vi.mock('../api.ts', () => ({
  ApiError: class extends Error {
    unavailable = false;
  },
  api: async (path: string, opts?: { query?: Record<string, unknown> }) => {
    calls.push({ path, ...(opts?.query && { query: opts.query }) });
    return closed;
  },
}));
const { AccountPanels } = await import('./AccountPanels.tsx');

afterEach(() => {
  cleanup();
  calls.length = 0;
});

const order = (o: Partial<Order>): Order => ({
  id: 'o1',
  client_order_id: 'c1',
  created_at: '2026-12-01T10:00:00Z',
  symbol: 'AAPL',
  qty: '10',
  filled_qty: '10',
  filled_avg_price: '187.25',
  type: 'limit',
  side: 'buy',
  time_in_force: 'gtc',
  limit_price: '187.50',
  stop_price: null,
  status: 'filled',
  ...o,
});

describe('closed orders', () => {
  it('lists the newest closed orders in their own tab, and reads them again when the open orders change', async () => {
    closed = [
      order({}),
      order({
        id: 'o2',
        symbol: 'MSFT',
        side: 'sell',
        filled_qty: '0',
        filled_avg_price: null,
        status: 'canceled',
      }),
    ];
    const open = [order({ id: 'o3', status: 'new', filled_qty: '0', filled_avg_price: null })];
    const { rerender } = render(
      <AccountPanels orders={open} positions={[]} fills={[]} onChanged={() => {}} />,
    );
    expect(calls).toEqual([]);
    fireEvent.click(screen.getByRole('tab', { name: 'Closed orders' }));
    const table = await screen.findByRole('table', { name: 'Closed orders' });
    expect(calls).toEqual([
      { path: '/v2/orders', query: { status: 'closed', limit: 50, direction: 'desc' } },
    ]);
    const rows = [...table.querySelectorAll('tbody tr')].map((r) =>
      [...r.querySelectorAll('td')].slice(1).map((td) => td.textContent),
    );
    expect(rows).toEqual([
      ['AAPL', 'buy', 'Limit', '10', '10', '187.25', '187.50', 'filled'],
      ['MSFT', 'sell', 'Limit', '10', '0', '—', '187.50', 'canceled'],
    ]);

    // the open order fills: it leaves the open list, and shows here
    closed = [order({ id: 'o3' }), ...closed];
    rerender(<AccountPanels orders={[]} positions={[]} fills={[]} onChanged={() => {}} />);
    await waitFor(() =>
      expect(screen.getByRole('table', { name: 'Closed orders' }).querySelectorAll('tbody tr')).toHaveLength(
        3,
      ),
    );
  });

  it('says so when there are none', async () => {
    closed = [];
    render(<AccountPanels orders={[]} positions={[]} fills={[]} onChanged={() => {}} />);
    fireEvent.click(screen.getByRole('tab', { name: 'Closed orders' }));
    expect(await screen.findByText('No closed orders yet.')).toBeTruthy();
  });
});

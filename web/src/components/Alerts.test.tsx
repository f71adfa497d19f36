// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PriceAlert } from './Alerts.tsx';

// the users service's /alerts, kept in a list: POST adds, DELETE removes, GET lists
let alerts: PriceAlert[] = [];
const sent: { method: string; path: string; body?: unknown }[] = [];
vi.mock('../api.ts', () => ({
  ApiError: class extends Error {},
  api: async (path: string, opts: { method?: string; body?: unknown } = {}) => {
    const method = opts.method ?? 'GET';
    sent.push({ method, path, ...(opts.body !== undefined && { body: opts.body }) });
    if (method === 'POST') {
      const b = opts.body as { symbol: string; condition: 'above' | 'below'; price: string };
      const a: PriceAlert = {
        id: `a${alerts.length + 1}`,
        ...b,
        status: 'active',
        created_at: '2026-12-06T00:00:00Z',
        triggered_at: null,
        triggered_price: null,
      };
      alerts = [...alerts, a];
      return a;
    }
    if (method === 'DELETE') {
      alerts = alerts.filter((a) => path !== `/alerts/${a.id}`);
      return undefined;
    }
    return { alerts, next_cursor: null };
  },
}));
const { Alerts } = await import('./Alerts.tsx');

afterEach(() => {
  cleanup();
  sent.length = 0;
});

const form = () => screen.getByRole('form', { name: 'New price alert for AAPL' });
const items = () =>
  within(screen.getByRole('list', { name: 'Your price alerts' }))
    .getAllByRole('listitem')
    .map((li) => li.textContent);

describe('price alerts', () => {
  it('sets an alert for the symbol shown, lists it (active before triggered) and deletes it', async () => {
    alerts = [
      {
        id: 'old',
        symbol: 'MSFT',
        condition: 'below',
        price: '400.00',
        status: 'triggered',
        created_at: '2026-12-01T00:00:00Z',
        triggered_at: '2026-12-02T00:00:00Z',
        triggered_price: '399.95',
      },
    ];
    render(<Alerts symbol="AAPL" lastCents={187_25} />);
    await screen.findByRole('list', { name: 'Your price alerts' });
    const price = within(form()).getByLabelText('Alert price');
    expect(price.getAttribute('placeholder')).toBe('187.25');
    fireEvent.change(within(form()).getByLabelText('Condition'), { target: { value: 'below' } });
    fireEvent.change(price, { target: { value: '180.5' } });
    fireEvent.click(within(form()).getByRole('button', { name: 'Set alert' }));
    await waitFor(() => expect(items()).toHaveLength(2));
    expect(sent.find((s) => s.method === 'POST')).toEqual({
      method: 'POST',
      path: '/alerts',
      body: { symbol: 'AAPL', condition: 'below', price: '180.50' },
    });
    expect(items()).toEqual([
      'AAPL at or below 180.50 active Delete',
      'MSFT at or below 400.00 triggered at 399.95 Delete',
    ]);
    fireEvent.click(screen.getByRole('button', { name: 'Delete alert AAPL at or below 180.50' }));
    await waitFor(() => expect(items()).toHaveLength(1));
    expect(sent.some((s) => s.method === 'DELETE' && s.path === '/alerts/a2')).toBe(true);
  });

  it('refuses a price off the cent grid before sending anything', async () => {
    alerts = [];
    render(<Alerts symbol="AAPL" lastCents={null} />);
    await screen.findByText('No alerts.');
    fireEvent.change(within(form()).getByLabelText('Alert price'), { target: { value: '1.005' } });
    fireEvent.click(within(form()).getByRole('button', { name: 'Set alert' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Alert price must be on the 0.01 tick grid (at most 2 decimals)',
    );
    expect(sent.filter((s) => s.method === 'POST')).toEqual([]);
  });
});

// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api.ts';
import type { TicketContext } from '../lib/ticket.ts';
import type { Order } from '../types.ts';
import { Ticket } from './Ticket.tsx';

afterEach(cleanup);

const ctx: TicketContext = {
  buyingPowerCents: 10_000_00,
  availableShares: 5,
  lastCents: 100_00,
  bidCents: 99_90,
  askCents: 100_10,
};

function setup(context: TicketContext = ctx, submit = vi.fn<(body: unknown) => Promise<Order>>()) {
  render(<Ticket symbol="AAPL" context={context} submit={submit} />);
  const type = (value: string) => fireEvent.change(screen.getByLabelText('Type'), { target: { value } });
  const qty = (value: string) => fireEvent.change(screen.getByLabelText('Quantity'), { target: { value } });
  const limit = (value: string) =>
    fireEvent.change(screen.getByLabelText('Limit price'), { target: { value } });
  const send = () => fireEvent.click(screen.getByRole('button', { name: /^(Buy|Sell) AAPL$/ }));
  return { submit, type, qty, limit, send };
}

const order = (o: Partial<Order>): Order => ({
  id: 'b0a5e000-0000-4000-8000-0000000004d2',
  client_order_id: 'x',
  created_at: '2026-01-01T00:00:00Z',
  symbol: 'AAPL',
  qty: '10',
  filled_qty: '0',
  filled_avg_price: null,
  type: 'limit',
  side: 'buy',
  time_in_force: 'gtc',
  limit_price: '99.50',
  stop_price: null,
  status: 'new',
  ...o,
});

describe('order ticket validation', () => {
  it('refuses a fractional or non-positive quantity before sending anything', () => {
    const t = setup();
    t.qty('1.5');
    t.limit('99.50');
    t.send();
    expect(screen.getByText('Quantity must be a positive whole number of shares')).toBeTruthy();
    t.qty('0');
    expect(screen.getByText('Quantity must be a positive whole number of shares')).toBeTruthy();
    t.qty('-3');
    t.send();
    expect(t.submit).not.toHaveBeenCalled();
    expect(screen.getByLabelText('Quantity').getAttribute('aria-invalid')).toBe('true');
  });

  it('requires a limit price for limit and stop-limit orders, and a stop price for stops', () => {
    const t = setup();
    t.qty('10');
    t.send();
    expect(screen.getByText('Limit price is required')).toBeTruthy();
    t.type('stop_limit');
    t.send();
    expect(screen.getByText('Stop price is required')).toBeTruthy();
    expect(screen.getByText('Limit price is required')).toBeTruthy();
    t.type('market');
    expect(screen.queryByLabelText('Limit price')).toBeNull();
    expect(t.submit).not.toHaveBeenCalled();
  });

  it('refuses a price off the 0.01 tick grid instead of rounding it', () => {
    const t = setup();
    t.qty('10');
    t.limit('99.505');
    t.send();
    expect(screen.getByText('Limit price must be on the 0.01 tick grid (at most 2 decimals)')).toBeTruthy();
    t.limit('abc');
    expect(screen.getByText('Limit price must be a number like 187.25')).toBeTruthy();
    t.limit('0');
    expect(screen.getByText('Limit price must be greater than 0')).toBeTruthy();
    expect(t.submit).not.toHaveBeenCalled();
  });

  it('checks buying power (limit × qty plus the taker fee) and shares available to sell', () => {
    const t = setup({ ...ctx, buyingPowerCents: 1_000_00 });
    t.qty('10');
    t.limit('100.00');
    t.send();
    // 10 × 100.00 = 1,000.00 + 3 bps = 1,000.30 > 1,000.00
    expect(screen.getByRole('alert').textContent).toBe(
      'Insufficient buying power: this order needs $1000.30, you have $1000.00',
    );
    fireEvent.click(screen.getByLabelText('Sell'));
    expect(screen.getByText('Only 5 AAPL shares are available to sell')).toBeTruthy();
    expect(t.submit).not.toHaveBeenCalled();
  });

  it('estimates cost and fee: maker 1 bp when it rests, taker 3 bps when it crosses, floored to the cent', () => {
    const t = setup();
    t.qty('7');
    t.limit('99.99');
    // rests below the 100.10 ask: 699.93, fee floor(69993 × 1 / 10000) = 6 cents
    expect(screen.getByTestId('est-notional').textContent).toBe('699.93');
    expect(screen.getByTestId('est-fee').textContent).toBe('0.06');
    expect(screen.getByTestId('est-total').textContent).toBe('699.99');
    expect(screen.getByText(/maker, 1 bps/)).toBeTruthy();
    t.limit('101.00');
    // crosses: trades at the ask 100.10 → 700.70, fee floor(70070 × 3 / 10000) = 21 cents
    expect(screen.getByTestId('est-notional').textContent).toBe('700.70');
    expect(screen.getByTestId('est-fee').textContent).toBe('0.21');
    expect(screen.getByText(/taker, 3 bps/)).toBeTruthy();
  });

  it('sends a valid order with a client order id and confirms the result', async () => {
    const submit = vi.fn(async (_body: unknown) => order({}));
    const t = setup(ctx, submit);
    t.qty('10');
    t.limit('99.50');
    t.send();
    await waitFor(() =>
      expect(screen.getByRole('status').textContent).toBe('Order new: buy 10 AAPL Limit @ 99.50'),
    );
    const body = submit.mock.calls[0]![0] as Record<string, unknown>;
    expect(body).toMatchObject({
      symbol: 'AAPL',
      qty: '10',
      side: 'buy',
      type: 'limit',
      time_in_force: 'gtc',
      limit_price: '99.50',
    });
    expect(body.client_order_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body).not.toHaveProperty('stop_price');
  });

  it("shows the API's problem detail when the exchange refuses", async () => {
    const submit = vi.fn(async () => {
      throw new ApiError(403, { status: 403, detail: 'AAPL is halted' });
    });
    const t = setup(ctx, submit);
    t.qty('1');
    t.limit('99.50');
    t.send();
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('Order refused: AAPL is halted'));
  });
});

describe('order classes and trailing stops in the ticket', () => {
  const set = (label: string, value: string) =>
    fireEvent.change(screen.getByLabelText(label), { target: { value } });

  it('places a bracket whose stop-loss is a trailing stop', async () => {
    const t = setup();
    t.submit.mockResolvedValue(order({ order_class: 'bracket' }));
    set('Class', 'bracket');
    t.qty('10');
    t.limit('99.50');
    set('Take profit', '105.00');
    set('or trailing stop loss', '2');
    set('Trail in', 'percent');
    t.send();
    await waitFor(() => expect(t.submit).toHaveBeenCalledTimes(1));
    expect(t.submit.mock.calls[0]![0]).toMatchObject({
      type: 'limit',
      limit_price: '99.50',
      order_class: 'bracket',
      take_profit: { limit_price: '105.00' },
      stop_loss: { trail_percent: '2' },
    });
  });

  it('places a trailing stop, an oco and an oto, and refuses a stop-loss above the take-profit', async () => {
    const t = setup();
    t.submit.mockResolvedValue(order({}));
    t.type('trailing_stop');
    fireEvent.click(screen.getByLabelText('Sell'));
    t.qty('5');
    set('Trail', '1.25');
    t.send();
    await waitFor(() => expect(t.submit).toHaveBeenCalledTimes(1));
    expect(t.submit.mock.calls[0]![0]).toMatchObject({
      type: 'trailing_stop',
      side: 'sell',
      trail_price: '1.25',
    });

    t.type('limit');
    set('Class', 'oco');
    t.limit('110.00');
    set('Stop loss', '111.00');
    t.send();
    expect(screen.getByText('The stop loss must be below the take profit')).toBeTruthy();
    set('Stop loss', '95.00');
    t.send();
    await waitFor(() => expect(t.submit).toHaveBeenCalledTimes(2));
    expect(t.submit.mock.calls[1]![0]).toMatchObject({
      order_class: 'oco',
      take_profit: { limit_price: '110.00' },
      stop_loss: { stop_price: '95.00' },
    });

    fireEvent.click(screen.getByLabelText('Buy'));
    t.type('market');
    set('Class', 'oto');
    set('Stop loss', '');
    set('Take profit', '120.00');
    t.send();
    await waitFor(() => expect(t.submit).toHaveBeenCalledTimes(3));
    const oto = t.submit.mock.calls[2]![0] as Record<string, unknown>;
    expect(oto).toMatchObject({ type: 'market', order_class: 'oto', take_profit: { limit_price: '120.00' } });
    expect(oto.stop_loss).toBeUndefined();
  });
});

// @vitest-environment happy-dom
import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { livePnl } from '../lib/pnl.ts';
import { handleStreamMessage, state } from '../market.ts';
import type { Position } from '../types.ts';
import { Positions } from './AccountPanels.tsx';
import { PnL } from './PnL.tsx';

/** a P&L figure by its full text, screen-reader words included */
const pnl = (text: string, within: HTMLElement = document.body) => {
  const found = [...within.querySelectorAll<HTMLElement>('.pnl')].find((e) => e.textContent === text);
  if (!found) throw new Error(`no P&L reading "${text}"`);
  return found;
};

afterEach(() => {
  cleanup();
  state.quotes.clear();
  state.tape.clear();
});

const position = (p: Partial<Position>): Position => ({
  symbol: 'AAPL',
  qty: '10',
  qty_available: '10',
  avg_entry_price: '187.25',
  market_value: '1880.00',
  cost_basis: '1872.50',
  unrealized_pl: '7.50',
  current_price: '188.00',
  lastday_price: '187.00',
  change_today: '0.0053',
  ...p,
});

describe('unrealised P&L', () => {
  it('is computed in cents from the cost basis and the live price', () => {
    expect(livePnl(position({}), 190_00)).toEqual({
      priceCents: 190_00,
      marketValueCents: 1900_00,
      unrealisedCents: 27_50,
      ratio: 2750 / 187250,
    });
    // without a live price: the API's current price
    expect(livePnl(position({}), null).unrealisedCents).toBe(7_50);
    expect(livePnl(position({ qty: '3', cost_basis: '300.00' }), 99_99).unrealisedCents).toBe(-3);
  });

  it('shows sign, colour and words for a gain, a loss and flat', () => {
    render(
      <>
        <PnL cents={12_34} ratio={0.0123} label="AAPL" />
        <PnL cents={-5} label="MSFT" />
        <PnL cents={0} label="SPY" />
      </>,
    );
    const gain = pnl('AAPL gain +12.34 (+1.23%)');
    expect(gain.className).toContain('up');
    expect(pnl('MSFT loss -0.05').className).toContain('down');
    expect(pnl('SPY flat 0.00').className).toContain('flat');
  });

  it('follows live trades in the positions table, total included', async () => {
    render(
      <Positions positions={[position({}), position({ symbol: 'MSFT', qty: '2', cost_basis: '800.00' })]} />,
    );
    const row = () => screen.getAllByRole('row').find((r) => r.getAttribute('data-symbol') === 'AAPL')!;
    // before any live trade: the API's current price (188.00) → +7.50
    expect(pnl('AAPL unrealised gain +7.50 (+0.40%)', row())).toBeTruthy();
    await act(async () => {
      handleStreamMessage({
        type: 'trade',
        symbol: 'AAPL',
        price: '186.00',
        size: 5,
        ts: '2026-01-01T00:00:00Z',
      });
      handleStreamMessage({
        type: 'trade',
        symbol: 'MSFT',
        price: '401.25',
        size: 1,
        ts: '2026-01-01T00:00:00Z',
      });
      await new Promise((r) => requestAnimationFrame(() => r(null)));
    });
    // 10 × 186.00 − 1872.50 = −12.50; 2 × 401.25 − 800.00 = +2.50; total −10.00
    expect(pnl('AAPL unrealised loss -12.50 (-0.67%)', row())).toBeTruthy();
    expect(pnl('MSFT unrealised gain +2.50 (+0.31%)')).toBeTruthy();
    expect(pnl('Total unrealised loss -10.00')).toBeTruthy();
  });
});

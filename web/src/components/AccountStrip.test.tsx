// @vitest-environment happy-dom
import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { readHoldings } from '../lib/equity.ts';
import { handleStreamMessage, state } from '../market.ts';
import type { Account, Position } from '../types.ts';
import { Positions } from './AccountPanels.tsx';
import { AccountStrip } from './AccountStrip.tsx';

afterEach(() => {
  cleanup();
  state.quotes.clear();
  state.tape.clear();
});

const account: Account = {
  id: 'a',
  cash: '1000.00',
  buying_power: '1000.00',
  // the server's own figure, valued at its own instant: the header must not show it
  equity: '9999.99',
  last_equity: '0',
  long_market_value: '8999.99',
};
const position = (symbol: string, qty: string, price: string): Position => ({
  symbol,
  qty,
  qty_available: qty,
  avg_entry_price: price,
  market_value: String(Number(qty) * Number(price)),
  cost_basis: String(Number(qty) * Number(price)),
  unrealized_pl: '0',
  current_price: price,
  lastday_price: price,
  change_today: '0',
});
const positions = [position('AAPL', '10', '188.00'), position('MSFT', '2', '400.00')];

const trade = (symbol: string, price: string) =>
  handleStreamMessage({ type: 'trade', symbol, price, size: 1, ts: '2026-01-01T00:00:00Z' });
const frame = () => new Promise((r) => requestAnimationFrame(() => r(null)));

/** the Positions table's Value column, in cents */
const tableValues = () =>
  screen
    .getAllByRole('row')
    .filter((r) => r.getAttribute('data-symbol'))
    .map((r) => Math.round(Number(r.querySelectorAll('td')[4]!.textContent!.replace(/,/g, '')) * 100));
const headerEquity = () =>
  Math.round(Number(screen.getByTestId('equity').textContent!.replace(/,/g, '')) * 100);

describe('header equity', () => {
  it('is cash plus the positions at the prices the Positions table shows, on every trade', async () => {
    render(
      <>
        <AccountStrip account={account} positions={positions} />
        <Positions positions={positions} />
      </>,
    );
    // no live price yet: the positions' current prices; 1,000 + 1,880 + 800
    expect(screen.getByTestId('equity').textContent).toBe('3,680.00');
    for (const [aapl, msft] of [
      ['190.10', '401.25'],
      ['185.55', '399.99'],
    ] as const) {
      await act(async () => {
        trade('AAPL', aapl);
        trade('MSFT', msft);
        await frame();
      });
      const values = tableValues();
      expect(values).toEqual([Math.round(Number(aapl) * 1000), Math.round(Number(msft) * 200)]);
      expect(headerEquity()).toBe(1000_00 + values[0]! + values[1]!);
    }
    // 1,000 + 10 × 185.55 + 2 × 399.99
    expect(screen.getByTestId('equity').textContent).toBe('3,655.48');
  });

  it("shows the account's figure until positions are known", () => {
    render(<AccountStrip account={account} positions={null} />);
    expect(screen.getByTestId('equity').textContent).toBe('9,999.99');
  });
});

describe('cash and positions of one instant', () => {
  it('reads the positions again when a fill lands between the cash and the positions', async () => {
    // a buy of 5 AAPL fills after the first positions read: cash 1,000 → 60, AAPL 0 → 5
    const reads: string[] = [];
    let filled = false;
    const readPositions = async () => {
      reads.push('positions');
      return filled ? [position('AAPL', '5', '188.00')] : [];
    };
    const readAccount = async () => {
      reads.push('account');
      filled = true;
      return { cash: '60.00' };
    };
    const h = await readHoldings(readAccount, readPositions);
    expect(reads).toEqual(['positions', 'account', 'positions', 'account', 'positions']);
    expect(h).toEqual({ account: { cash: '60.00' }, positions: [position('AAPL', '5', '188.00')] });
  });

  it('takes one read of each when nothing moves', async () => {
    let n = 0;
    const h = await readHoldings(
      async () => ({ cash: '1.00', n: ++n }),
      async () => positions,
    );
    expect(h.account).toEqual({ cash: '1.00', n: 1 });
    expect(h.positions).toBe(positions);
  });
});

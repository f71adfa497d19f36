// @vitest-environment happy-dom
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { monthlyGrid, percent, statementFigures, usd } from '../lib/report.ts';
import { MetricCards, MonthlyReturns } from './ReportViews.tsx';

afterEach(cleanup);

// what /v1/reports/performance answers (its summary is formatted by the server)
const report = {
  account: '7f8c2a7e-9d1b-4c3e-8a55-0b6f1e2d3c4b',
  time_weighted_return: -0.0000158,
  sharpe_ratio: -2.8511457799,
  summary: [
    { key: 'closing_equity', label: 'Closing equity', display: '$9,500.00' },
    { key: 'time_weighted_return', label: 'Time-weighted return', display: '0.00%' },
    { key: 'sharpe_ratio', label: 'Sharpe ratio', display: '−2.85', note: 'risk-free 0.00% a year' },
    {
      key: 'max_drawdown',
      label: 'Max drawdown',
      display: '−9.52%',
      note: '1 Mar 2026 → 2 Mar 2026, not recovered',
    },
  ],
  monthly_returns: [
    { month: '2025-12', return: 0.0123 },
    { month: '2026-01', return: 0.05 },
    { month: '2026-02', return: 0 },
    { month: '2026-03', return: -0.0952380952 },
  ],
  yearly_returns: [
    { year: '2025', return: 0.0123 },
    { year: '2026', return: -0.05 },
  ],
};

describe('the Portfolio screen figures', () => {
  it('shows the key metrics as labelled, formatted cards: no raw decimals, no account id', () => {
    render(<MetricCards items={report.summary} />);
    const cards = screen.getByRole('list', { name: 'Key metrics' });
    expect(within(cards).getAllByRole('listitem')).toHaveLength(4);
    const sharpe = cards.querySelector('[data-key="sharpe_ratio"]')!;
    expect(sharpe.textContent).toBe('Sharpe ratio−2.85risk-free 0.00% a year');
    expect(sharpe.querySelector('.metric-value')!.classList.contains('neg')).toBe(true);
    expect(cards.textContent).toContain('Time-weighted return0.00%');
    expect(cards.textContent).toContain('$9,500.00');
    expect(cards.textContent).not.toMatch(/\d\.\d{4,}/);
    expect(cards.textContent).not.toContain(report.account);
  });

  it('tabulates monthly returns by year and month, shaded by sign', () => {
    render(<MonthlyReturns report={report} />);
    const table = screen.getByRole('table', { name: 'Monthly returns' });
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(3);
    const y2026 = within(rows[2]!)
      .getAllByRole('cell')
      .map((c) => c.textContent);
    expect(y2026.slice(0, 3)).toEqual(['5.0%', '0.0%', '−9.5%']);
    expect(y2026.at(-1)).toBe('−5.0%');
    expect(within(rows[1]!).getAllByRole('cell')[11]!.textContent).toBe('1.2%');
    expect(within(rows[2]!).getAllByRole('cell')[2]!.classList.contains('neg')).toBe(true);
    expect(within(rows[2]!).getAllByRole('cell')[0]!.classList.contains('pos')).toBe(true);
    expect(monthlyGrid({})).toEqual([]);
  });

  it('formats the statement totals as dollars with separators', () => {
    expect(
      statementFigures({
        opening_cash: '0.00',
        closing_cash: '-1234567.5',
        totals: { deposits: '10000.00', fees: '0.05', trades: 12345, reconciled: true },
      }),
    ).toEqual([
      ['Opening cash', '$0.00'],
      ['Deposits', '$10,000.00'],
      ['Withdrawals', '—'],
      ['Bought', '—'],
      ['Sold', '—'],
      ['Fees', '$0.05'],
      ['Net change', '—'],
      ['Closing cash', '−$1,234,567.50'],
      ['Trades', '12,345'],
      ['Reconciled', 'Yes'],
    ]);
    expect(usd('abc')).toBe('—');
    expect(percent(-0.0000158)).toBe('0.00%');
    expect(percent(-0.000158)).toBe('−0.02%');
  });
});

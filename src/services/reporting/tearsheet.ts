/** Pieces of a tear sheet shared by the performance and market reports: the monthly returns table. */
import { monthlyReturns, type ValuePoint, yearlyReturns } from '../../domain/analytics/index.ts';
import * as fmt from './display.ts';
import type { PdfTable } from './pdf.ts';

/** Green for a gain, red for a loss, deeper with the size of the move (full at ±10 %). */
function heat(text: string): string | null {
  const m = /^(−?)([\d,.]+)%$/.exec(text);
  if (!m) return null;
  const x = Number(m[2]!.replaceAll(',', '')) * (m[1] ? -1 : 1);
  if (x === 0) return null;
  const strength = Math.min(1, Math.abs(x) / 10);
  const mix = (a: number, b: number) => Math.round(a + (b - a) * strength);
  const [r, g, b] =
    x > 0 ? [mix(255, 120), mix(255, 200), mix(255, 130)] : [mix(255, 235), mix(255, 120), mix(255, 110)];
  return `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/** Years down, months across, each cell the month's compounded return, and the year's. */
export function monthlyTable(title: string, points: readonly ValuePoint[]): PdfTable {
  const months = new Map(monthlyReturns(points).map((m) => [m.period, m.return]));
  const years = yearlyReturns(points);
  const rows = years.map((y) => [
    y.period,
    ...fmt.MONTH_NAMES.map((_, i) => {
      const r = months.get(`${y.period}-${String(i + 1).padStart(2, '0')}`);
      return r === undefined ? '' : fmt.percent(r, 1);
    }),
    fmt.percent(y.return, 1),
  ]);
  return {
    title,
    columns: [
      { name: 'Year', width: 38 },
      ...fmt.MONTH_NAMES.map((name) => ({ name, width: 34, align: 'right' as const })),
      { name: 'Year', width: 49, align: 'right' },
    ],
    rows,
    shade: (row, column) => (column === 0 ? null : heat(row[column] ?? '')),
  };
}

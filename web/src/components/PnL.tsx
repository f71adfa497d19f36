import { direction, fmtPct, fmtSignedCents } from '../lib/money.ts';

/** A P&L figure: signed dollars and percent, coloured, with words for screen readers. */
export function PnL({
  cents,
  ratio,
  label,
}: {
  cents: number | null;
  ratio?: number | null;
  label?: string;
}) {
  const dir = direction(cents);
  const words = cents === null ? 'unknown' : dir === 'up' ? 'gain' : dir === 'down' ? 'loss' : 'flat';
  return (
    <span className={`num pnl ${dir}`}>
      <span className="sr-only">{`${label ? `${label} ` : ''}${words} `}</span>
      {fmtSignedCents(cents)}
      {ratio !== undefined && <span className="pct"> ({fmtPct(ratio)})</span>}
    </span>
  );
}

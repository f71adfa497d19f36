/** The reporting period of a request: UTC days, `to` inclusive, checked and defaulted here. */
import { DAY_MS, dayOf, dayStart, type Period } from './format.ts';
import { invalidField } from './problems.ts';

/**
 * Longest period any report covers: a century of days, a bound on date arithmetic only. What a
 * report reads is bounded by its own rule (the market report by bar count, MAX_BARS).
 */
export const MAX_DAYS = 36_600;

export function periodOf(
  q: { from?: string; to?: string },
  now: number,
  defaultDays = 30,
  maxDays = MAX_DAYS,
): Period {
  const to = q.to ?? dayOf(now);
  const toMs = dayStart(to);
  if (!Number.isFinite(toMs) || dayOf(toMs) !== to)
    throw invalidField('querystring', 'to', 'is not a valid date');
  const from = q.from ?? dayOf(toMs - (defaultDays - 1) * DAY_MS);
  const fromMs = dayStart(from);
  if (!Number.isFinite(fromMs) || dayOf(fromMs) !== from) {
    throw invalidField('querystring', 'from', 'is not a valid date');
  }
  if (fromMs > toMs) throw invalidField('querystring', 'from', 'must not be after to');
  const days = (toMs - fromMs) / DAY_MS + 1;
  if (days > maxDays) throw invalidField('querystring', 'from', `period must not exceed ${maxDays} days`);
  return { from, to, start: new Date(fromMs), end: new Date(toMs + DAY_MS), days };
}

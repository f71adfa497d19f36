/**
 * /v2/calendar and /v2/account/configurations. Bourse's session is opened and closed by an admin,
 * not by a timetable: the calendar is the nominal one (every weekday, 09:30–16:00, no holidays).
 * Account configurations are fixed by what the platform is (a cash account: no shorting, no
 * margin, no fractional shares); PATCH accepts those values and answers 501 for any other.
 */
import type { FastifyInstance } from 'fastify';
import type { EdgeRouteConfig } from '../context.ts';
import { fail, invalidField } from '../problems.ts';

const DAY_MS = 86_400_000;
const MAX_DAYS = 3_660;

export const ACCOUNT_CONFIGURATION = {
  dtbp_check: 'both',
  trade_confirm_email: 'none',
  suspend_trade: false,
  no_shorting: true,
  fractional_trading: false,
  max_margin_multiplier: '1',
  max_options_trading_level: 0,
  pdt_check: 'entry',
  ptp_no_exception_entry: false,
} as const;

const config = (rateClass: 'reads' | 'orders') => ({ auth: 'required', rateClass }) satisfies EdgeRouteConfig;

function day(field: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms))
    throw invalidField('querystring', field, 'must be a date (YYYY-MM-DD) or RFC 3339');
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

export async function calendarConfigRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: { start?: string; end?: string; date_type?: string } }>(
    '/v2/calendar',
    {
      config: config('reads'),
      schema: {
        tags: ['account'],
        summary: 'Market calendar (nominal: every weekday 09:30–16:00)',
        querystring: {
          type: 'object',
          properties: {
            start: { type: 'string', maxLength: 40 },
            end: { type: 'string', maxLength: 40 },
            date_type: { type: 'string', enum: ['TRADING', 'SETTLEMENT'] },
          },
        },
      },
    },
    async (req) => {
      const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
      const start = day('start', req.query.start, today);
      const end = day('end', req.query.end, start + 30 * DAY_MS);
      if (end < start) throw invalidField('querystring', 'start', 'must not be after end');
      if (end - start > MAX_DAYS * DAY_MS)
        throw invalidField('querystring', 'end', `at most ${MAX_DAYS} days after start`);
      const days = [];
      for (let t = start; t <= end; t += DAY_MS) {
        const weekday = new Date(t).getUTCDay();
        if (weekday === 0 || weekday === 6) continue;
        const date = new Date(t).toISOString().slice(0, 10);
        days.push({
          date,
          open: '09:30',
          close: '16:00',
          session_open: '0400',
          session_close: '2000',
          settlement_date: date,
        });
      }
      return days;
    },
  );

  app.get(
    '/v2/account/configurations',
    { config: config('reads'), schema: { tags: ['account'], summary: 'Account configurations (fixed)' } },
    async () => ACCOUNT_CONFIGURATION,
  );

  app.patch<{ Body: Record<string, unknown> }>(
    '/v2/account/configurations',
    {
      config: config('orders'),
      schema: {
        // hidden from the document: a valid but different value is a 501, which is not an answer to list
        hide: true,
        body: {
          type: 'object',
          properties: {
            dtbp_check: { type: 'string', enum: ['both', 'entry', 'exit'] },
            trade_confirm_email: { type: 'string', enum: ['all', 'none'] },
            suspend_trade: { type: 'boolean' },
            no_shorting: { type: 'boolean' },
            fractional_trading: { type: 'boolean' },
            max_margin_multiplier: { type: 'string', enum: ['1', '2', '4'] },
            max_options_trading_level: { type: 'integer', minimum: 0, maximum: 3 },
            pdt_check: { type: 'string', enum: ['both', 'entry', 'exit'] },
            ptp_no_exception_entry: { type: 'boolean' },
          },
        },
      },
    },
    async (req) => {
      const fixed: Record<string, unknown> = ACCOUNT_CONFIGURATION;
      for (const [name, value] of Object.entries(req.body ?? {})) {
        if (!(name in fixed)) continue; // Alpaca ignores fields it does not know
        if (value !== fixed[name])
          throw fail(
            501,
            'not-implemented',
            'Not implemented',
            `Bourse does not support changing ${name} (fixed at ${JSON.stringify(fixed[name])})`,
          );
      }
      return ACCOUNT_CONFIGURATION;
    },
  );
}

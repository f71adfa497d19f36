/**
 * The HTTP API: forwarded identity (401), admin routes (403), strict schemas (400 naming the
 * field, nothing changed), runtime feed configuration, a simulated feed, staleness and recovery
 * in the consolidated view, history import and news polling. On PGlite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { identityHeaders } from '../../src/platform/http/forwarded-identity.ts';
import { httpMarketDataClient, MarketDataApiError } from '../../src/services/market-data/client.ts';
import { MID, SYMBOL } from '../orders/support/service.ts';
import { forEachDb } from '../support/db.ts';
import {
  admin,
  eventually,
  expectProblem,
  INTERNAL_TOKEN,
  investor,
  type MdHarness,
  makeHarness,
  T0,
} from './harness.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const RSS = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Wire</title>
<item><guid>n-1</guid><title>ACME beats estimates</title><link>https://news.test/1</link>
<description>Shares of ACME rose.</description><pubDate>Thu, 26 Nov 2026 13:00:00 GMT</pubDate></item>
<item><guid>n-2</guid><title>Markets calm</title><link>https://news.test/2</link>
<description>Nothing to see.</description><pubDate>Thu, 26 Nov 2026 12:00:00 GMT</pubDate></item>
</channel></rss>`;

const SIM = {
  id: 'sim',
  kind: 'simulated',
  priority: 5,
  staleAfterMs: 1000,
  config: {
    symbols: [
      { symbol: 'SIMA', price: 50 },
      { symbol: SYMBOL, price: 100 },
    ],
    ratePerSec: 20,
    seed: 7,
  },
};

forEachDb('market-data: HTTP API', (makeDb) => {
  let h: MdHarness;
  let fetches = 0;
  beforeAll(async () => {
    h = await makeHarness(await makeDb(), {
      config: {
        fetch: async () => {
          fetches++;
          return new Response(RSS, { status: 200, headers: { 'content-type': 'application/rss+xml' } });
        },
      },
    });
  });
  afterAll(async () => h?.close());

  const feedIds = async () =>
    (
      (await h.req({ method: 'GET', url: '/v1/market-data/feeds' }, admin)).json() as {
        feeds: { id: string }[];
      }
    ).feeds.map((f) => f.id);
  const status = async (id: string) =>
    (
      (await h.req({ method: 'GET', url: '/v1/market-data/feeds/status' }, admin)).json() as {
        feeds: { id: string; state: string }[];
      }
    ).feeds.find((f) => f.id === id);

  describe('authentication and authorisation', () => {
    it('answers 401 without a forwarded identity or with a wrong internal token', async () => {
      expectProblem(await h.req({ method: 'GET', url: '/v1/market-data/instruments' }, null), 401);
      const forged = identityHeaders(admin, 'not-the-token');
      expectProblem(await h.req({ method: 'GET', url: '/v1/market-data/feeds', headers: forged }, null), 401);
      expectProblem(
        await h.req({ method: 'GET', url: `/v2/stocks/${SYMBOL}/bars?timeframe=1Min` }, null),
        401,
      );
    });

    it('answers 403 to a non-admin on every admin route, and changes nothing', async () => {
      expectProblem(await h.req({ method: 'GET', url: '/v1/market-data/feeds' }), 403);
      expectProblem(await h.req({ method: 'GET', url: '/v1/market-data/feeds/status' }), 403);
      expectProblem(await h.req({ method: 'POST', url: '/v1/market-data/feeds', payload: SIM }), 403);
      expectProblem(
        await h.req({ method: 'PATCH', url: '/v1/market-data/feeds/exchange', payload: { priority: 9 } }),
        403,
      );
      expectProblem(await h.req({ method: 'DELETE', url: '/v1/market-data/feeds/exchange' }), 403);
      expectProblem(
        await h.req({
          method: 'POST',
          url: `/v1/market-data/import?symbol=${SYMBOL}`,
          headers: { 'content-type': 'text/csv' },
          payload: 'Date,Open,High,Low,Close,Volume\n2026-11-20,1,1,1,1,1\n',
        }),
        403,
      );
      expect(await feedIds()).toEqual(['exchange']);
      const { rows } = await h.db.query('SELECT 1 FROM md_candles');
      expect(rows).toEqual([]);
    });

    it('lets an investor read', async () => {
      const res = await h.req({ method: 'GET', url: '/v1/market-data/instruments' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().instruments).toContainEqual(
        expect.objectContaining({ symbol: SYMBOL, source: 'exchange', tradable: true, tick_size: 0.01 }),
      );
      expect(investor.role).toBe('investor');
    });
  });

  describe('validation', () => {
    const bad: [string, string, string][] = [
      ['missing timeframe', `/v2/stocks/${SYMBOL}/bars`, 'timeframe'],
      ['unknown timeframe', `/v2/stocks/${SYMBOL}/bars?timeframe=2Min`, 'timeframe'],
      // Bourse's own routes refuse an unknown parameter; Alpaca's ignore it (below)
      ['unknown parameter', `/v1/market-data/${SYMBOL}/depth?colour=red`, 'colour'],
      ['limit too big', `/v2/stocks/${SYMBOL}/bars?timeframe=1Min&limit=100000`, 'limit'],
      ['bad start', `/v2/stocks/${SYMBOL}/bars?timeframe=1Min&start=yesterday`, 'start'],
      ['bad end', `/v2/stocks/${SYMBOL}/bars?timeframe=1Min&end=someday`, 'end'],
      ['bad page token', `/v2/stocks/${SYMBOL}/bars?timeframe=1Min&page_token=%21%21`, 'page_token'],
      ['lower-case symbol', '/v2/stocks/acme/trades/latest', 'symbol'],
      ['bad symbols list', '/v2/stocks/snapshots?symbols=ACME,,X', 'symbols'],
      ['levels too deep', `/v1/market-data/${SYMBOL}/depth?levels=0`, 'levels'],
      ['unknown indicator', `/v1/market-data/${SYMBOL}/indicators?indicators=foo:3`, 'indicators'],
      ['news limit', '/v1/market-data/news?limit=abc', 'limit'],
    ];
    for (const [name, url, field] of bad) {
      it(`400 names the field: ${name}`, async () => {
        expectProblem(await h.req({ method: 'GET', url }), 400, field);
      });
    }

    it("Alpaca's routes ignore an unknown parameter and name it in X-Bourse-Ignored-Fields", async () => {
      const res = await h.req({ method: 'GET', url: `/v2/stocks/${SYMBOL}/bars?timeframe=1Min&colour=red` });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['x-bourse-ignored-fields']).toBe('colour');
    });

    it('refuses a bad feed and changes nothing', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ ...SIM, colour: 'red' }, 'colour'],
        [{ ...SIM, kind: 'carrier-pigeon' }, 'kind'],
        [{ ...SIM, id: 'Bad Id' }, 'id'],
        [{ ...SIM, priority: 0 }, 'priority'],
        [{ ...SIM, config: { ...SIM.config, symbols: [] } }, 'config.symbols'],
        [
          { ...SIM, config: { ...SIM.config, symbols: [{ symbol: 'SIMA', price: -1 }] } },
          'config.symbols.0.price',
        ],
        [{ ...SIM, config: { ...SIM.config, ratePerSec: undefined } }, 'config.ratePerSec'],
        [{ id: 'wire', kind: 'news', config: { url: 'ftp://x' } }, 'config.url'],
      ];
      for (const [payload, field] of cases) {
        expectProblem(
          await h.req({ method: 'POST', url: '/v1/market-data/feeds', payload }, admin),
          400,
          field,
        );
      }
      expectProblem(
        await h.req({ method: 'PATCH', url: '/v1/market-data/feeds/exchange', payload: {} }, admin),
        400,
      );
      expectProblem(
        await h.req(
          { method: 'PATCH', url: '/v1/market-data/feeds/exchange', payload: { priority: 'high' } },
          admin,
        ),
        400,
        'priority',
      );
      expect(await feedIds()).toEqual(['exchange']);
    });
  });

  describe('feeds at runtime', () => {
    it('adds a simulated feed that quotes and trades its symbols, stepped by the clock', async () => {
      const res = await h.req({ method: 'POST', url: '/v1/market-data/feeds', payload: SIM }, admin);
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ id: 'sim', kind: 'simulated', priority: 5, enabled: true });
      expectProblem(
        await h.req({ method: 'POST', url: '/v1/market-data/feeds', payload: SIM }, admin),
        409,
        'id',
      );
      h.clock.advance(500);
      await h.md.step();
      const q = (await h.md.client.latestQuote('SIMA')).quote;
      expect(q.x).toBe('sim');
      expect(q.ap).toBeGreaterThan(q.bp);
      expect(Math.round(q.bp * 100)).toBe(q.bp * 100); // on the cent grid
      const trades = await h.md.client.trades('SIMA', { limit: 1000 });
      expect(trades.trades.length).toBeGreaterThan(0);
      for (const t of trades.trades) expect(t.x).toBe('sim');
      const instruments = (await h.md.client.instruments()).instruments;
      expect(instruments).toContainEqual(
        expect.objectContaining({ symbol: 'SIMA', source: 'sim', tradable: false }),
      );
    });

    it('prefers the exchange while it is live, drops it when stale and restores it when it speaks', async () => {
      const { orders, md, clock } = h;
      await orders.client.submitOrder('alice', {
        symbol: SYMBOL,
        side: 'buy',
        type: 'limit',
        tif: 'gtc',
        qty: 5,
        price: MID - 50,
      });
      await eventually(async () =>
        expect((await md.client.latestQuote(SYMBOL)).quote).toMatchObject({ x: 'exchange', bp: 99.5 }),
      );
      // the exchange stays silent past its staleAfterMs (60 s) while the simulator keeps talking
      for (let i = 0; i < 61; i++) {
        clock.advance(1000);
        await md.step();
      }
      expect(await status('exchange')).toMatchObject({ state: 'stale' });
      expect(await status('sim')).toMatchObject({ state: 'connected' });
      expect((await md.client.latestQuote(SYMBOL)).quote.x).toBe('sim');
      await orders.client.submitOrder('alice', {
        symbol: SYMBOL,
        side: 'buy',
        type: 'limit',
        tif: 'gtc',
        qty: 5,
        price: MID - 40,
      });
      await eventually(async () =>
        expect((await md.client.latestQuote(SYMBOL)).quote).toMatchObject({ x: 'exchange', bp: 99.6 }),
      );
      expect(await status('exchange')).toMatchObject({ state: 'connected' });
    });

    it('changes and removes a feed', async () => {
      const res = await h.req(
        { method: 'PATCH', url: '/v1/market-data/feeds/sim', payload: { enabled: false } },
        admin,
      );
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ id: 'sim', enabled: false, health: { state: 'stopped' } });
      expectProblem(
        await h.req(
          { method: 'PATCH', url: '/v1/market-data/feeds/nope', payload: { enabled: false } },
          admin,
        ),
        404,
      );
      expect((await h.req({ method: 'DELETE', url: '/v1/market-data/feeds/sim' }, admin)).statusCode).toBe(
        204,
      );
      expectProblem(await h.req({ method: 'DELETE', url: '/v1/market-data/feeds/sim' }, admin), 404);
      expect(await feedIds()).toEqual(['exchange']);
    });
  });

  describe('history import', () => {
    it('stores the good rows as daily candles and reports the bad ones by line', async () => {
      const csv = [
        'Date,Open,High,Low,Close,Volume',
        '2026-11-20,10.00,11.50,9.75,11.25,120000',
        '2026-11-21,abc,11,9,10,1000',
        '2026-11-23,11.25,12.00,11.00,11.90,90000',
      ].join('\n');
      const res = await h.req(
        {
          method: 'POST',
          url: `/v1/market-data/import?symbol=${SYMBOL}&timeframe=1d`,
          headers: { 'content-type': 'text/csv' },
          payload: csv,
        },
        admin,
      );
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as {
        symbol: string;
        imported: number;
        errors: { line: number; message: string }[];
      };
      expect(body).toMatchObject({ symbol: SYMBOL, imported: 2 });
      expect(body.errors.map((e) => e.line)).toEqual([3]);
      const bars = await h.md.client.bars(SYMBOL, {
        timeframe: '1Day',
        start: '2026-11-01T00:00:00Z',
        end: '2026-11-24T00:00:00Z',
      });
      expect(bars.bars).toEqual([
        { t: '2026-11-20T00:00:00.000Z', o: 10, h: 11.5, l: 9.75, c: 11.25, v: 120000, vw: null, n: 0 },
        { t: '2026-11-23T00:00:00.000Z', o: 11.25, h: 12, l: 11, c: 11.9, v: 90000, vw: null, n: 0 },
      ]);
      const { rows } = await h.db.query<{ source: string }>(
        "SELECT DISTINCT source FROM md_candles WHERE timeframe = '1d' AND bucket < $1",
        [new Date('2026-11-24T00:00:00Z')],
      );
      expect(rows).toEqual([{ source: 'import' }]);
    });

    it('takes JSON bars too, and refuses a request without a symbol', async () => {
      const res = await h.req(
        {
          method: 'POST',
          url: `/v1/market-data/import?symbol=SIMA`,
          payload: [{ t: '2026-11-20T00:00:00Z', o: 5, h: 6, l: 4, c: 5.5, v: 10 }],
        },
        admin,
      );
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ symbol: 'SIMA', imported: 1, errors: [] });
      expectProblem(
        await h.req(
          {
            method: 'POST',
            url: '/v1/market-data/import',
            headers: { 'content-type': 'text/csv' },
            payload: 'Date,Price\n2026-11-20,5\n',
          },
          admin,
        ),
        400,
        'symbol',
      );
    });

    it('imports a file of several symbols (long or wide), or only the one asked for; a dry run writes nothing', async () => {
      const post = (query: string, payload: string) =>
        h.req(
          {
            method: 'POST',
            url: `/v1/market-data/import?${query}`,
            headers: { 'content-type': 'text/csv' },
            payload,
          },
          admin,
        );
      const count = async (symbol: string) =>
        (
          await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM md_candles WHERE symbol = $1', [
            symbol,
          ])
        ).rows[0]!.n;
      const long =
        'symbol,date,price\nLONGA,Jan 3 2000,10\nLONGB,3-Jan-2000,20\nLONGA,Jan 4 2000,11\nLONGB,bad,1\n';
      const dry = await post('dry_run=true', long);
      expect(dry.statusCode, dry.body).toBe(200);
      expect(dry.json()).toMatchObject({
        dry_run: true,
        rows: 3,
        imported: 0,
        symbol: null,
        layout: 'csv-long-price',
      });
      expect(await count('LONGA')).toBe(0);
      const res = await post('', long);
      expect(res.json()).toMatchObject({
        imported: 3,
        error_count: 1,
        errors: [{ line: 5, message: expect.stringMatching(/unparseable date 'bad'/) }],
        symbols: [
          { symbol: 'LONGA', rows: 2, first: '2000-01-03T00:00:00.000Z', last: '2000-01-04T00:00:00.000Z' },
          { symbol: 'LONGB', rows: 1 },
        ],
      });
      expect(await count('LONGA')).toBe(2);
      const wide = await post(
        'symbol=WIDEB&date_format=dmy',
        'Date,WIDEA,WIDEB\n13/01/2000,1,2\n01/02/2000,3,4\n',
      );
      expect(wide.json()).toMatchObject({
        symbol: 'WIDEB',
        imported: 2,
        date_format: 'dmy',
        date_format_from: 'given',
      });
      const { rows } = await h.db.query<{ bucket: Date }>(
        "SELECT bucket FROM md_candles WHERE symbol = 'WIDEB' ORDER BY bucket",
      );
      expect(rows.map((r) => r.bucket.toISOString().slice(0, 10))).toEqual(['2000-01-13', '2000-02-01']);
      expect(await count('WIDEA')).toBe(0);
      expectProblem(await post('symbol=NOPE', 'Date,WIDEA\n2000-01-03,1\n'), 400, 'symbol');
      expectProblem(await post('date_format=ymd&symbol=X', 'Date,Price\n'), 400, 'date_format');
    });

    it('lists imported symbols as instruments, and without a start answers the newest bars before end (paging back)', async () => {
      // LONGA: two daily bars in January 2000, no feed, not listed
      const instruments = (await h.md.client.instruments()).instruments;
      expect(instruments).toContainEqual(
        expect.objectContaining({ symbol: 'LONGA', source: 'import', tradable: false }),
      );
      expect(instruments.filter((i) => i.symbol === SYMBOL)).toHaveLength(1);
      const latest = await h.md.client.bars('LONGA', { timeframe: '1Day', limit: 1 });
      expect(latest).toMatchObject({
        bars: [{ t: '2000-01-04T00:00:00.000Z', c: 11 }],
        next_page_token: null,
      });
      const older = await h.md.client.bars('LONGA', {
        timeframe: '1Day',
        end: latest.bars[0]!.t,
        limit: 10,
      });
      expect(older.bars.map((b) => [b.t, b.c])).toEqual([['2000-01-03T00:00:00.000Z', 10]]);
      const none = await h.md.client.bars('LONGA', { timeframe: '1Day', end: older.bars[0]!.t });
      expect(none.bars).toEqual([]);
      const both = await h.md.client.bars('LONGA', { timeframe: '1Day' });
      expect(both.bars.map((b) => b.t)).toEqual(['2000-01-03T00:00:00.000Z', '2000-01-04T00:00:00.000Z']);
    });

    it('pages bars with next_page_token', async () => {
      const first = await h.md.client.bars(SYMBOL, {
        timeframe: '1Day',
        start: '2026-11-01T00:00:00Z',
        end: '2026-11-24T00:00:00Z',
        limit: 1,
      });
      expect(first.bars.map((b) => b.t)).toEqual(['2026-11-20T00:00:00.000Z']);
      expect(first.next_page_token).not.toBeNull();
      const second = await h.md.client.bars(SYMBOL, {
        timeframe: '1Day',
        start: '2026-11-01T00:00:00Z',
        end: '2026-11-24T00:00:00Z',
        limit: 1,
        page_token: first.next_page_token!,
      });
      expect(second.bars.map((b) => b.t)).toEqual(['2026-11-23T00:00:00.000Z']);
      expect(second.next_page_token).toBeNull();
    });
  });

  describe('analytics over the candles', () => {
    it('aligns indicator series with the bars, warmed up on earlier bars', async () => {
      await h.md.flush();
      const res = await h.req({
        method: 'GET',
        url: `/v1/market-data/${SYMBOL}/indicators?timeframe=1Day&indicators=sma:2,vwap&limit=2`,
      });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as {
        bars: { t: string; c: number }[];
        indicators: Record<string, ({ value: number } | null)[]>;
      };
      // 11-20 and 11-23 imported, today's built from the simulator's trades
      expect(body.bars.map((b) => b.t)).toEqual(['2026-11-23T00:00:00.000Z', '2026-11-26T00:00:00.000Z']);
      expect(body.indicators['sma:2']).toHaveLength(2);
      expect(body.indicators['sma:2']![0]!.value).toBeCloseTo((11.25 + 11.9) / 2, 9);
      expect(body.indicators['sma:2']![1]!.value).toBeCloseTo((11.9 + body.bars[1]!.c) / 2, 9);
      expect(Object.keys(body.indicators)).toEqual(['sma:2', 'vwap']);
    });

    it('snapshots a symbol with its daily and previous daily bars', async () => {
      const res = await h.req({ method: 'GET', url: `/v2/stocks/snapshots?symbols=${SYMBOL},NOPE` });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as Record<
        string,
        {
          dailyBar: { t: string } | null;
          prevDailyBar: { t: string; c: number } | null;
          latestQuote: unknown;
        }
      >;
      expect(body[SYMBOL]!.dailyBar?.t).toBe('2026-11-26T00:00:00.000Z');
      expect(body[SYMBOL]!.prevDailyBar).toMatchObject({ t: '2026-11-23T00:00:00.000Z', c: 11.9 });
      expect(body.NOPE).toEqual({
        latestTrade: null,
        latestQuote: null,
        minuteBar: null,
        dailyBar: null,
        prevDailyBar: null,
      });
    });

    it('ranks movers against the previous close', async () => {
      const res = await h.req({ method: 'GET', url: '/v1/market-data/movers?top=5' });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as {
        gainers: { symbol: string; percent_change: number }[];
        most_active: { symbol: string }[];
      };
      const acme = body.gainers.find((g) => g.symbol === SYMBOL);
      expect(acme?.percent_change).toBeGreaterThan(0);
      expect(body.most_active.length).toBeGreaterThan(0);
      expectProblem(await h.req({ method: 'GET', url: '/v1/market-data/movers?top=0' }), 400, 'top');
      expect((await h.req({ method: 'GET', url: '/v1/market-data/alerts' })).json()).toMatchObject({
        alerts: [],
      });
    });
  });

  describe('the typed clients', () => {
    it('answers the same over HTTP as in-process, errors included', async () => {
      const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
      const http = httpMarketDataClient({ baseUrl: address, internalToken: INTERNAL_TOKEN });
      const query = {
        timeframe: '1Day' as const,
        start: '2026-11-01T00:00:00Z',
        end: '2026-11-24T00:00:00Z',
      };
      expect(await http.bars(SYMBOL, query)).toEqual(await h.md.client.bars(SYMBOL, query));
      expect(await http.instruments()).toEqual(await h.md.client.instruments());
      for (const client of [http, h.md.client]) {
        const missing = await client.latestTrade('NOPE').catch((e: unknown) => e);
        expect(missing).toBeInstanceOf(MarketDataApiError);
        expect((missing as MarketDataApiError).status).toBe(404);
        const bad = await client.bars(SYMBOL, { timeframe: '1Day', start: 'never' }).catch((e: unknown) => e);
        expect((bad as MarketDataApiError).problem).toMatchObject({
          status: 400,
          errors: [{ field: 'start' }],
        });
      }
      const wrong = httpMarketDataClient({ baseUrl: address, internalToken: 'wrong-token-wrong-token' });
      await expect(wrong.instruments()).rejects.toMatchObject({ status: 401 });
    });
  });

  describe('news', () => {
    it('polls a news feed, tags symbols, stores each item once', async () => {
      const res = await h.req(
        {
          method: 'POST',
          url: '/v1/market-data/feeds',
          payload: { id: 'wire', kind: 'news', config: { url: 'https://news.test/rss' } },
        },
        admin,
      );
      expect(res.statusCode, res.body).toBe(201);
      await h.md.step();
      await h.md.step();
      expect(fetches).toBe(2);
      const all = (await h.md.client.news({ limit: 10 })).news;
      expect(all.map((n) => n.headline)).toEqual(['ACME beats estimates', 'Markets calm']);
      const acme = (await h.md.client.news({ symbols: [SYMBOL] })).news;
      expect(acme).toHaveLength(1);
      expect(acme[0]).toMatchObject({
        symbols: [SYMBOL],
        url: 'https://news.test/1',
        source: 'wire',
        created_at: '2026-11-26T13:00:00.000Z',
      });
      expect(await status('wire')).toMatchObject({ state: 'connected' });
      expect(T0).toBeGreaterThan(0);
    });
  });
});

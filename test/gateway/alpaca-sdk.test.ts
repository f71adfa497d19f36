/**
 * Contract tests: the official Alpaca SDK (@alpacahq/alpaca-trade-api 4.0.2), unchanged, against
 * a running Bourse (all-in-one, PGlite, a real port). The SDK is pointed at Bourse the way any
 * user would, through its public `middleware` option (its hosts are fixed: paper-api and data
 * .alpaca.markets are rewritten to this server). One test per facade call: each call either works
 * or answers a problem+json 501 that the SDK surfaces as an ApiError with status 501.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Alpaca, ApiError, TimeFrame } from '@alpacahq/alpaca-trade-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, start } from '../../src/cli/start.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createLogger } from '../../src/platform/logger.ts';

const ADMIN_PASSWORD = 'contract testing the alpaca surface 12';
const PASSWORD = 'correct horse battery staple';
const ALPACA_HOSTS = /^https:\/\/(paper-api|api|data)\.alpaca\.markets/;

describe('the official Alpaca SDK against Bourse', () => {
  let dir: string;
  let running: Running;
  let alpaca: Alpaca;
  let adminToken: string;
  let keyId: string;
  let secret: string;
  let orderId: string;

  async function http(method: string, url: string, body?: unknown, token = adminToken) {
    const res = await fetch(`${running.url}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    expect(res.status, `${method} ${url}: ${text}`).toBeLessThan(300);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }

  async function userWithToken(username: string): Promise<{ id: string; token: string }> {
    const user = await http('POST', '/users', {
      username,
      email: `${username}@example.com`,
      password: PASSWORD,
    });
    const login = await http('POST', '/auth/login', { username, password: PASSWORD });
    return { id: user.id as string, token: login.access_token as string };
  }

  /** the SDK call's failure, which must be a problem+json 501 naming what is unsupported */
  async function unsupported(call: Promise<unknown>, names: string): Promise<void> {
    const err = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.status).toBe(501);
    expect(e.message).toContain(names);
  }

  beforeAll(async () => {
    for (const name of ['BOURSE_RATE_ORDERS', 'BOURSE_RATE_READS', 'BOURSE_RATE_LOGIN'])
      process.env[name] = '1000000/1000000';
    dir = await mkdtemp(join(tmpdir(), 'bourse-alpaca-sdk-'));
    running = await start(
      loadConfig({
        BOURSE_DATA_DIR: dir,
        BOURSE_DEMO: 'off',
        BOURSE_FIX_PORT: 'off',
        BOURSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
      }),
      createLogger({ level: 'silent' }),
      'all',
    );
    adminToken = (await http('POST', '/auth/login', { username: 'admin', password: ADMIN_PASSWORD }, ''))
      .access_token as string;
    await http('POST', '/v1/admin/instruments', {
      symbol: 'ACME',
      reference_price: '100.00',
      price_band_pct: 0,
    });
    await http('POST', '/v1/admin/instruments', {
      symbol: 'BOLT',
      reference_price: '50.00',
      price_band_pct: 0,
    });
    const trader = await userWithToken('sdktrader');

    const seller = await userWithToken('sdkseller');
    await http('POST', '/v1/admin/funding', {
      account_id: trader.id,
      direction: 'deposit',
      amount: '100000.00',
    });
    await http('POST', '/v1/admin/funding', {
      account_id: seller.id,
      direction: 'deposit',
      amount: '1000.00',
    });
    await http('POST', '/v1/admin/transfers', {
      account_id: seller.id,
      symbol: 'ACME',
      qty: 1000,
      cost: '90000.00',
    });
    // a resting offer the trader's buy orders meet: trades, a quote and bars for market data
    await http(
      'POST',
      '/v2/orders',
      {
        symbol: 'ACME',
        qty: '500',
        side: 'sell',
        type: 'limit',
        limit_price: '100.00',
        time_in_force: 'gtc',
      },
      seller.token,
    );
    const key = await http('POST', '/api-keys', { name: 'sdk' }, trader.token);
    const pointAtBourse = {
      pre: async (c: { url: string; init: RequestInit }) => ({
        url: c.url.replace(ALPACA_HOSTS, running.url),
        init: c.init,
      }),
    };
    keyId = (key.key_id ?? key.id) as string;
    secret = (key.secret_key ?? key.secret) as string;
    alpaca = new Alpaca({
      keyId,
      secret,
      retry: false,
      rateLimit: false,
      middleware: [pointAtBourse],
    });
  });

  afterAll(async () => {
    await running?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('trading', () => {
    it('account.getAccount', async () => {
      const account = await alpaca.trading.account.getAccount();
      expect(account.status).toBe('ACTIVE');
      expect(account.cash).toBe('100000.00');
    });

    it('orders.limit (postOrder) fills against the resting offer', async () => {
      const order = await alpaca.trading.orders.limit({
        symbol: 'ACME',
        side: 'buy',
        qty: 10,
        limitPrice: 100,
        timeInForce: 'day',
        clientOrderId: 'sdk-fill-1',
      });
      expect(order.symbol).toBe('ACME');
      expect(order.status).toBe('filled');
    });

    it('orders.limit rests an order off the market', async () => {
      const order = await alpaca.trading.orders.limit({
        symbol: 'ACME',
        side: 'buy',
        qty: 5,
        limitPrice: 90,
        timeInForce: 'gtc',
        clientOrderId: 'sdk-rest-1',
      });
      expect(order.status).toBe('new');
      orderId = order.id as string;
    });

    it('orders.getAllOrders', async () => {
      const orders = await alpaca.trading.orders.getAllOrders({ status: 'open' });
      expect(orders.map((o) => o.id)).toContain(orderId);
    });

    it('orders.getOrderByOrderID', async () => {
      const order = await alpaca.trading.orders.getOrderByOrderID({ orderId });
      expect(order.clientOrderId).toBe('sdk-rest-1');
    });

    it('orders.getOrderByClientOrderId', async () => {
      const order = await alpaca.trading.orders.getOrderByClientOrderId({ clientOrderId: 'sdk-rest-1' });
      expect(order.id).toBe(orderId);
    });

    it('orders.patchOrderByOrderId (replace)', async () => {
      const replaced = await alpaca.trading.orders.patchOrderByOrderId({
        orderId,
        patchOrderRequest: { qty: '6', limitPrice: '91' },
      });
      expect(replaced.qty).toBe('6');
      orderId = replaced.id as string;
    });

    it('orders.deleteOrderByOrderID (cancel)', async () => {
      await alpaca.trading.orders.deleteOrderByOrderID({ orderId });
      const order = await alpaca.trading.orders.getOrderByOrderID({ orderId });
      expect(order.status).toBe('canceled');
    });

    it('orders.deleteAllOrders', async () => {
      await alpaca.trading.orders.limit({
        symbol: 'ACME',
        side: 'buy',
        qty: 1,
        limitPrice: 80,
        timeInForce: 'gtc',
      });
      const statuses = await alpaca.trading.orders.deleteAllOrders();
      expect(statuses.length).toBe(1);
      expect(await alpaca.trading.orders.getAllOrders({ status: 'open' })).toEqual([]);
    });

    it('positions.getAllOpenPositions', async () => {
      const positions = await alpaca.trading.positions.getAllOpenPositions();
      expect(positions.find((p) => p.symbol === 'ACME')?.qty).toBe('10');
    });

    it('positions.getOpenPosition', async () => {
      const position = await alpaca.trading.positions.getOpenPosition({ symbolOrAssetId: 'ACME' });
      expect(position.qty).toBe('10');
    });

    it('positions.deleteOpenPosition (close part of a position)', async () => {
      // a bid to sell into, then close 2 of the 10 shares
      const order = await alpaca.trading.positions.deleteOpenPosition({ symbolOrAssetId: 'ACME', qty: 2 });
      expect(order.symbol).toBe('ACME');
      expect(order.side).toBe('sell');
    });

    it('positions.deleteAllOpenPositions and closeAllPositions', async () => {
      const closed = await alpaca.trading.closeAllPositions({ cancelOrders: true });
      expect(Array.isArray(closed)).toBe(true);
      const again = await alpaca.trading.positions.deleteAllOpenPositions({ cancelOrders: true });
      expect(Array.isArray(again)).toBe(true);
    });

    it('clock.legacyClock (GET /v2/clock)', async () => {
      const clock = await alpaca.trading.clock.legacyClock();
      expect(typeof clock.isOpen).toBe('boolean');
    });

    it('clock.clock (GET /v3/clock) is a 501', async () => {
      await unsupported(alpaca.trading.clock.clock({}), '/v3/clock');
    });

    it('calendar.legacyCalendar (GET /v2/calendar)', async () => {
      const days = await alpaca.trading.calendar.legacyCalendar({
        start: new Date('2026-01-05T00:00:00Z'),
        end: new Date('2026-01-11T00:00:00Z'),
      });
      expect(days.length).toBe(5);
      expect(days[0]).toMatchObject({ open: '09:30', close: '16:00' });
    });

    it('calendar.calendar (GET /v3/calendar/{market}) is a 501', async () => {
      await unsupported(alpaca.trading.calendar.calendar({ market: 'NYSE' }), '/v3/calendar');
    });

    it('assets.getV2Assets', async () => {
      const assets = await alpaca.trading.assets.getV2Assets({});
      expect(assets.map((a) => a.symbol)).toEqual(expect.arrayContaining(['ACME', 'BOLT']));
    });

    it('assets.getV2AssetsSymbolOrAssetId', async () => {
      const asset = await alpaca.trading.assets.getV2AssetsSymbolOrAssetId({ symbolOrAssetId: 'ACME' });
      expect(asset.tradable).toBe(true);
    });

    it('assets.getOptionsContracts is a 501', async () => {
      await unsupported(alpaca.trading.assets.getOptionsContracts({}), '/v2/options/contracts');
    });

    it('accountActivities.getAccountActivities', async () => {
      const activities = await alpaca.trading.accountActivities.getAccountActivities({});
      expect(activities.length).toBeGreaterThan(0);
    });

    it('accountActivities.getAccountActivitiesByActivityType', async () => {
      const fills = await alpaca.trading.accountActivities.getAccountActivitiesByActivityType({
        activityType: 'FILL',
      });
      expect(fills.length).toBeGreaterThan(0);
    });

    it('validateConnection and collectActivities', async () => {
      expect((await alpaca.trading.validateConnection()).ok).toBe(true);
      expect((await alpaca.trading.collectActivities()).length).toBeGreaterThan(0);
    });

    it('accountConfigurations.getAccountConfig', async () => {
      const config = await alpaca.trading.accountConfigurations.getAccountConfig();
      expect(config).toMatchObject({ suspendTrade: false, noShorting: true, fractionalTrading: false });
    });

    it('accountConfigurations.patchAccountConfig: the fixed values are accepted, others are a 501', async () => {
      const same = await alpaca.trading.accountConfigurations.patchAccountConfig({
        accountConfigurations: { noShorting: true },
      });
      expect(same.noShorting).toBe(true);
      await unsupported(
        alpaca.trading.accountConfigurations.patchAccountConfig({
          accountConfigurations: { noShorting: false },
        }),
        'no_shorting',
      );
    });

    it('portfolioHistory.getAccountPortfolioHistory (daily; intraday is a 501)', async () => {
      const history = await alpaca.trading.portfolioHistory.getAccountPortfolioHistory({
        period: '1M',
        timeframe: '1D',
      });
      expect(history.timestamp?.length).toBeGreaterThan(0);
      expect(history.equity?.length).toBe(history.timestamp?.length);
      expect(history.profitLossPct?.length).toBe(history.timestamp?.length);
      await unsupported(
        alpaca.trading.portfolioHistory.getAccountPortfolioHistory({ period: '1D', timeframe: '5Min' }),
        'timeframe 5Min',
      );
    });

    describe('watchlists', () => {
      let id: string;
      it('watchlists.postWatchlist', async () => {
        const list = await alpaca.trading.watchlists.postWatchlist({
          createWatchlistRequest: { name: 'tech', symbols: ['ACME'] },
        });
        expect(list.name).toBe('tech');
        expect(list.assets?.map((a) => a.symbol)).toEqual(['ACME']);
        id = list.id;
      });
      it('watchlists.getWatchlists', async () => {
        const lists = await alpaca.trading.watchlists.getWatchlists();
        expect(lists.map((l) => l.id)).toEqual([id]);
      });
      it('watchlists.getWatchlistById', async () => {
        expect((await alpaca.trading.watchlists.getWatchlistById({ watchlistId: id })).name).toBe('tech');
      });
      it('watchlists.getWatchlistByName', async () => {
        expect((await alpaca.trading.watchlists.getWatchlistByName({ name: 'tech' })).id).toBe(id);
      });
      it('watchlists.addAssetToWatchlist', async () => {
        const list = await alpaca.trading.watchlists.addAssetToWatchlist({
          watchlistId: id,
          addAssetToWatchlistRequest: { symbol: 'BOLT' },
        });
        expect(list.assets?.map((a) => a.symbol)).toEqual(['ACME', 'BOLT']);
      });
      it('watchlists.addAssetToWatchlistByName', async () => {
        await alpaca.trading.watchlists.postWatchlist({ createWatchlistRequest: { name: 'other' } });
        const list = await alpaca.trading.watchlists.addAssetToWatchlistByName({
          name: 'other',
          addAssetToWatchlistRequest: { symbol: 'ACME' },
        });
        expect(list.assets?.map((a) => a.symbol)).toEqual(['ACME']);
      });
      it('watchlists.removeAssetFromWatchlist', async () => {
        const list = await alpaca.trading.watchlists.removeAssetFromWatchlist({
          watchlistId: id,
          symbol: 'ACME',
        });
        expect(list.assets?.map((a) => a.symbol)).toEqual(['BOLT']);
      });
      it('watchlists.updateWatchlistById', async () => {
        const list = await alpaca.trading.watchlists.updateWatchlistById({
          watchlistId: id,
          updateWatchlistRequest: { name: 'renamed', symbols: ['ACME', 'BOLT'] },
        });
        expect(list.name).toBe('renamed');
        expect(list.assets?.length).toBe(2);
      });
      it('watchlists.updateWatchlistByName', async () => {
        const list = await alpaca.trading.watchlists.updateWatchlistByName({
          name: 'renamed',
          updateWatchlistRequest: { name: 'tech', symbols: ['BOLT'] },
        });
        expect(list.name).toBe('tech');
      });
      it('watchlists.deleteWatchlistByName', async () => {
        await alpaca.trading.watchlists.deleteWatchlistByName({ name: 'other' });
        expect((await alpaca.trading.watchlists.getWatchlists()).map((l) => l.name)).toEqual(['tech']);
      });
      it('watchlists.deleteWatchlistById', async () => {
        await alpaca.trading.watchlists.deleteWatchlistById({ watchlistId: id });
        expect(await alpaca.trading.watchlists.getWatchlists()).toEqual([]);
      });
      it("another user's watchlist is not found", async () => {
        const mine = await alpaca.trading.watchlists.postWatchlist({
          createWatchlistRequest: { name: 'mine' },
        });
        const other = await userWithToken('sdkother');
        const res = await fetch(`${running.url}/v2/watchlists/${mine.id}`, {
          headers: { authorization: `Bearer ${other.token}` },
        });
        expect(res.status).toBe(404);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        await alpaca.trading.watchlists.deleteWatchlistById({ watchlistId: mine.id });
      });
    });

    it('unsupported trading families answer 501: corporate actions, locates, crypto funding, tokenization, events', async () => {
      await unsupported(
        alpaca.trading.corporateActions.getV2CorporateActionsAnnouncements({
          caTypes: 'dividend',
          since: '2026-01-01',
          until: '2026-02-01',
        }),
        '/v2/corporate_actions',
      );
      await unsupported(alpaca.trading.locates.listLocates({}), '/v1/locates');
      await unsupported(alpaca.trading.cryptoFunding.listCryptoFundingWallets({}), '/v2/wallets');
      await unsupported(alpaca.trading.tokenization.getTokenizationRequests(), '/v2/tokenization');
      await unsupported(alpaca.trading.events.subscribeToActivitiesSSE({}), '/v2beta1/events');
    });
  });

  describe('market data', () => {
    it('stocks.stockBarSingle', async () => {
      const res = await alpaca.data.stocks.stockBarSingle({ symbol: 'ACME', timeframe: TimeFrame.Minute });
      expect(res.bars.length).toBeGreaterThan(0);
    });
    it('stocks.stockBars (multi-symbol) and getStockBarsFor', async () => {
      const res = await alpaca.data.stocks.stockBars({ symbols: 'ACME,BOLT', timeframe: TimeFrame.Minute });
      expect(Object.keys(res.bars)).toEqual(['ACME']);
      const bars = await alpaca.data.getStockBarsFor('ACME', { timeframe: TimeFrame.Minute });
      expect(bars.length).toBeGreaterThan(0);
    });
    it('stocks.stockLatestBarSingle and stockLatestBars', async () => {
      expect((await alpaca.data.stocks.stockLatestBarSingle({ symbol: 'ACME' })).bar.c).toBe(100);
      expect((await alpaca.data.stocks.stockLatestBars({ symbols: 'ACME' })).bars.ACME?.c).toBe(100);
    });
    it('stocks.stockLatestTradeSingle and stockLatestTrades', async () => {
      expect((await alpaca.data.stocks.stockLatestTradeSingle({ symbol: 'ACME' })).trade.p).toBe(100);
      expect((await alpaca.data.stocks.stockLatestTrades({ symbols: 'ACME' })).trades.ACME?.p).toBe(100);
    });
    it('stocks.stockLatestQuoteSingle and stockLatestQuotes', async () => {
      expect((await alpaca.data.stocks.stockLatestQuoteSingle({ symbol: 'ACME' })).quote.ap).toBe(100);
      expect((await alpaca.data.stocks.stockLatestQuotes({ symbols: 'ACME' })).quotes.ACME?.ap).toBe(100);
    });
    it('stocks.stockTradeSingle with start, end, sort', async () => {
      const res = await alpaca.data.stocks.stockTradeSingle({
        symbol: 'ACME',
        start: new Date(Date.now() - 3_600_000),
        end: new Date(Date.now() + 60_000),
        sort: 'desc',
      });
      expect(res.trades.length).toBeGreaterThan(0);
    });
    it('stocks.stockTrades (multi-symbol)', async () => {
      const res = await alpaca.data.stocks.stockTrades({ symbols: 'ACME,BOLT' });
      expect(res.trades.ACME?.length).toBeGreaterThan(0);
    });
    it('stocks.stockQuoteSingle and stockQuotes', async () => {
      const one = await alpaca.data.stocks.stockQuoteSingle({ symbol: 'ACME' });
      expect(one.quotes.length).toBeGreaterThan(0);
      const many = await alpaca.data.stocks.stockQuotes({ symbols: 'ACME' });
      expect(many.quotes.ACME?.length).toBeGreaterThan(0);
    });
    it('stocks.stockSnapshotSingle and stockSnapshots', async () => {
      const one = await alpaca.data.stocks.stockSnapshotSingle({ symbol: 'ACME' });
      expect(one.latestTrade?.p).toBe(100);
      const many = await alpaca.data.stocks.stockSnapshots({ symbols: 'ACME' });
      expect(many.ACME?.latestTrade?.p).toBe(100);
    });
    it('ergonomic helpers: getLatestPrice, getStockTradesFor, getStockQuotes, getStockCandlesFor', async () => {
      expect(await alpaca.data.getLatestPrice('ACME')).toBe(100);
      expect((await alpaca.data.getStockTradesFor('ACME', {})).length).toBeGreaterThan(0);
      expect((await alpaca.data.getStockQuotes({ symbols: ['ACME'] })).ACME?.length).toBe(1);
      const candles = await alpaca.data.getStockCandlesFor('ACME', { timeframe: TimeFrame.Minute });
      expect(candles.close.length).toBeGreaterThan(0);
    });
    it('stocks auctions and meta are 501', async () => {
      await unsupported(alpaca.data.stocks.stockAuctionSingle({ symbol: 'ACME' }), 'auctions');
      await unsupported(alpaca.data.stocks.stockAuctions({ symbols: 'ACME' }), 'auctions');
      await unsupported(alpaca.data.stocks.stockMetaExchanges(), '/v2/stocks/meta');
      await unsupported(
        alpaca.data.stocks.stockMetaConditions({ ticktype: 'trade', tape: 'A' }),
        '/v2/stocks/meta',
      );
    });
    it('news.news (GET /v1beta1/news)', async () => {
      const res = await alpaca.data.news.news({ symbols: 'ACME', limit: 5 });
      expect(Array.isArray(res.news)).toBe(true);
    });
    it('screener.mostActives and movers are 501', async () => {
      await unsupported(alpaca.data.screener.mostActives({}), '/v1beta1/screener');
      await unsupported(alpaca.data.screener.movers({ marketType: 'stocks' }), '/v1beta1/screener');
    });
    it('crypto, options, forex, indices, logos, fixed income, corporate actions are 501', async () => {
      await unsupported(
        alpaca.data.crypto.cryptoLatestTrades({ loc: 'us', symbols: 'BTC/USD' }),
        '/v1beta3/crypto',
      );
      await unsupported(
        alpaca.data.options.optionSnapshots({ symbols: 'AAPL250620C00100000' }),
        '/v1beta1/options',
      );
      await unsupported(alpaca.data.forex.latestRates({ currencyPairs: 'EURUSD' }), '/v1beta1/forex');
      await unsupported(alpaca.data.logos.logos({ symbol: 'ACME' }), '/v1beta1/logos');
      await unsupported(alpaca.data.corporateActions.corporateActions({}), '/v1/corporate-actions');
    });
  });

  it('an unknown /v2 route is a problem+json 404', async () => {
    const res = await fetch(`${running.url}/v2/no-such-thing`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('a /v2 body without a content-type (or text/plain) is read as JSON, its values still checked', async () => {
    const headers = { 'apca-api-key-id': keyId, 'apca-api-secret-key': secret };
    const order = {
      symbol: 'ACME',
      qty: '1',
      side: 'buy',
      type: 'limit',
      limit_price: '50.00',
      time_in_force: 'gtc',
    };
    const ok = await fetch(`${running.url}/v2/orders`, {
      method: 'POST',
      headers,
      body: JSON.stringify(order),
    });
    expect(ok.status, await ok.text()).toBe(200);
    const bad = await fetch(`${running.url}/v2/orders`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ ...order, qty: 'NaN' }),
    });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
  });

  it("a /v2 request's Alpaca fields that Bourse does not use are ignored; names Alpaca does not know are refused", async () => {
    const headers = {
      'apca-api-key-id': keyId,
      'apca-api-secret-key': secret,
      'content-type': 'application/json',
    };
    const order = {
      symbol: 'ACME',
      qty: '1',
      side: 'buy',
      type: 'limit',
      limit_price: '60.00',
      time_in_force: 'gtc',
    };
    const placed = await fetch(`${running.url}/v2/orders`, {
      method: 'POST',
      headers,
      body: JSON.stringify(order),
    });
    const id = ((await placed.json()) as { id: string }).id;
    const replaced = await fetch(`${running.url}/v2/orders/${id}`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ order_id: id, qty: '2' }),
    });
    expect(replaced.status, await replaced.text()).toBe(200);
    const typo = await fetch(`${running.url}/v2/orders`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ ...order, stop_prce: '1.00' }),
    });
    expect(typo.status).toBe(422);
    expect(JSON.stringify(await typo.json())).toContain('stop_prce');
    const badValue = await fetch(`${running.url}/v2/orders`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ ...order, notional: 5, qty: '-1' }),
    });
    expect(badValue.status).toBe(422);
  });

  it('closing a position with the symbol repeated in the query (as some clients send it)', async () => {
    const headers = { 'apca-api-key-id': keyId, 'apca-api-secret-key': secret };
    // the earlier market sells found no bid: the trader still holds ACME, and this closes it
    const res = await fetch(`${running.url}/v2/positions/ACME?symbol=ACME`, { method: 'DELETE', headers });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ symbol: 'ACME', side: 'sell', type: 'market' });
  });

  describe('the real-time stream in Alpaca protocol (the SDK stockStream, MessagePack)', () => {
    const streamUrl = () => `${running.url.replace(/^http/, 'ws')}/v2/iex`;

    it('stockStream: authenticates, subscribes, and receives a trade as it happens', async () => {
      const stream = alpaca.data.stockStream({ url: streamUrl(), reconnect: false });
      try {
        const trade = new Promise<{ symbol: string; price?: number; size?: number }>((resolve) =>
          stream.onTrade((t) => {
            if (t.symbol === 'ACME') resolve(t);
          }),
        );
        stream.connect();
        expect(await stream.waitForAuthentication(10_000)).toBe(true);
        const subscribed = new Promise<unknown>((resolve) => stream.on('subscription', resolve));
        stream.subscribeForTrades(['ACME']);
        stream.subscribeForQuotes(['ACME']);
        expect(await subscribed).toMatchObject({ trades: ['ACME'] });
        // a buy against the seller's resting offer at 100.00
        await alpaca.trading.orders.limit({
          symbol: 'ACME',
          side: 'buy',
          qty: 1,
          limitPrice: 100,
          timeInForce: 'day',
        });
        expect(await trade).toMatchObject({ symbol: 'ACME', price: 100, size: 1 });
      } finally {
        stream.disconnect();
      }
    });

    it('stockStream with a wrong secret: authentication fails', async () => {
      const wrong = new Alpaca({ keyId, secret: 'not-the-secret', retry: false, rateLimit: false });
      const stream = wrong.data.stockStream({ url: streamUrl(), reconnect: false });
      try {
        stream.connect();
        expect(await stream.waitForAuthentication(10_000)).toBe(false);
      } finally {
        stream.disconnect();
      }
    });
  });
});

/**
 * Contract tests: the official Alpaca SDK (@alpacahq/alpaca-trade-api 4.0.2), unchanged, against
 * a running Bourse (all-in-one, PGlite, a real port). The SDK is pointed at Bourse the way any
 * user would, through its public `middleware` option (its hosts are fixed: paper-api and data
 * .alpaca.markets are rewritten to this server). One test per facade call: each call either works
 * or answers a problem+json 501 that the SDK surfaces as an ApiError with status 501.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Alpaca, ApiError, TimeFrame } from '@alpacahq/alpaca-trade-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Running, start } from '../../src/cli/start.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createLogger } from '../../src/platform/logger.ts';

const ADMIN_PASSWORD = 'contract testing the alpaca surface 12';
const PASSWORD = 'correct horse battery staple';
const ALPACA_HOSTS = /^https:\/\/(paper-api|api|data)\.alpaca\.markets/;

/**
 * The SDK's public facade, read from the installed SDK itself (so a new SDK version brings its new
 * calls here): `trading.<api>.<method>`, `trading.<helper>`, `data.<api>.<method>`, `data.<helper>`.
 * The generated APIs' `*Raw` twins and the BaseAPI plumbing (withMiddleware...) are not calls.
 */
function facadeCalls(alpaca: Alpaca): string[] {
  const methods = (o: object): string[] => {
    const out = new Set<string>();
    for (let p = Object.getPrototypeOf(o); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      if (/^_?BaseAPI/.test(p.constructor.name)) break;
      for (const k of Object.getOwnPropertyNames(p))
        if (k !== 'constructor' && !k.endsWith('Raw') && !k.startsWith('_')) out.add(k);
    }
    return [...out];
  };
  const calls: string[] = [];
  for (const [name, client] of [
    ['trading', alpaca.trading],
    ['data', alpaca.data],
  ] as const) {
    const proto = Object.getPrototypeOf(client) as object;
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(proto, key)!;
      if (d.get)
        for (const m of methods(Reflect.get(client, key) as object)) calls.push(`${name}.${key}.${m}`);
      else if (typeof d.value === 'function') calls.push(`${name}.${key}`);
    }
  }
  return calls;
}

/** every facade call the tests made, recorded by `recording` */
const made = new Set<string>();

/** The facade, unchanged, but each call through it is recorded in `made` (by its path). */
function recording<T extends object>(target: T, path: string): T {
  return new Proxy(target, {
    get(t, key) {
      const value: unknown = Reflect.get(t, key, t);
      if (typeof key !== 'string') return value;
      const name = path === '' ? key : `${path}.${key}`;
      if (typeof value === 'function')
        return (...args: unknown[]) => {
          made.add(name);
          // called on the real object: a helper's own inner calls are not counted as tests of them
          return (value as (...a: unknown[]) => unknown).apply(t, args);
        };
      if (value !== null && typeof value === 'object' && (path !== '' || key === 'trading' || key === 'data'))
        return recording(value, name);
      return value;
    },
  });
}

async function drain<X>(items: AsyncIterable<X>): Promise<X[]> {
  const out: X[] = [];
  for await (const x of items) out.push(x);
  return out;
}

describe('the official Alpaca SDK against Bourse', () => {
  let dir: string;
  let running: Running;
  let alpaca: Alpaca;
  let adminToken: string;
  let keyId: string;
  let secret: string;
  let orderId: string;
  let sellerToken: string;

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
    sellerToken = seller.token;
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
    alpaca = recording(
      new Alpaca({
        keyId,
        secret,
        retry: false,
        rateLimit: false,
        middleware: [pointAtBourse],
      }),
      '',
    );
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

    describe('order builders (each rests or fills, then all are canceled)', () => {
      const common = { symbol: 'ACME', qty: 1, timeInForce: 'gtc' } as const;
      it('orders.market fills against the resting offer', async () => {
        const order = await alpaca.trading.orders.market({
          symbol: 'ACME',
          side: 'buy',
          qty: 1,
          timeInForce: 'day',
        });
        expect(order).toMatchObject({ type: 'market', status: 'filled', filledAvgPrice: '100.00' });
      });
      it('orders.stop rests above the market', async () => {
        const order = await alpaca.trading.orders.stop({ ...common, side: 'buy', stopPrice: 150 });
        expect(order).toMatchObject({ type: 'stop', stopPrice: '150.00', status: 'new' });
      });
      it('orders.stopLimit', async () => {
        const order = await alpaca.trading.orders.stopLimit({
          ...common,
          side: 'buy',
          stopPrice: 150,
          limitPrice: 151,
        });
        expect(order).toMatchObject({ type: 'stop_limit', limitPrice: '151.00', stopPrice: '150.00' });
      });
      it('orders.trailingStop (sell, trail in dollars)', async () => {
        const order = await alpaca.trading.orders.trailingStop({ ...common, side: 'sell', trailPrice: 5 });
        expect(order).toMatchObject({ type: 'trailing_stop', trailPrice: '5.00' });
      });
      it('orders.bracket: a resting entry with its two exits', async () => {
        const order = await alpaca.trading.orders.bracket({
          ...common,
          side: 'buy',
          limitPrice: 90,
          takeProfit: { limitPrice: 120 },
          stopLoss: { stopPrice: 80 },
        });
        expect(order.orderClass).toBe('bracket');
        expect(order.legs?.length).toBe(2);
      });
      it('orders.oco: take profit and stop loss of held shares', async () => {
        const order = await alpaca.trading.orders.oco({
          ...common,
          side: 'sell',
          takeProfit: { limitPrice: 120 },
          stopLoss: { stopPrice: 80 },
        });
        expect(order.orderClass).toBe('oco');
      });
      it('orders.oto: an entry and one exit', async () => {
        const order = await alpaca.trading.orders.oto({
          ...common,
          side: 'buy',
          limitPrice: 90,
          stopLoss: { stopPrice: 80 },
        });
        expect(order.orderClass).toBe('oto');
      });
      it('orders.submit (the near-raw builder)', async () => {
        const order = await alpaca.trading.orders.submit({
          ...common,
          side: 'buy',
          type: 'limit',
          limitPrice: 89,
        });
        expect(order).toMatchObject({ type: 'limit', limitPrice: '89.00' });
      });
      it('orders.postOrder (the generated call)', async () => {
        const order = await alpaca.trading.orders.postOrder({
          postOrderRequest: {
            symbol: 'ACME',
            qty: '1',
            side: 'buy',
            type: 'limit',
            timeInForce: 'gtc',
            limitPrice: '88',
          },
        });
        expect(order).toMatchObject({ limitPrice: '88.00', status: 'new' });
        await alpaca.trading.orders.deleteAllOrders();
        expect(await alpaca.trading.orders.getAllOrders({ status: 'open' })).toEqual([]);
      });
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

  describe('every other trading call Bourse does not offer: a problem+json 501 naming it', () => {
    const cases: [string, () => Promise<unknown>, string][] = [
      [
        'assets.getOptionContractSymbolOrId',
        () => alpaca.trading.assets.getOptionContractSymbolOrId({ symbolOrId: 'AAPL250620C00100000' }),
        'options are not listed',
      ],
      ['iterateOptionsContracts', () => drain(alpaca.trading.iterateOptionsContracts({})), '/v2/options'],
      ['collectOptionsContracts', () => alpaca.trading.collectOptionsContracts({}), '/v2/options'],
      [
        'positions.optionExercise',
        () => alpaca.trading.positions.optionExercise({ symbolOrContractId: 'AAPL250620C00100000' }),
        'option exercise',
      ],
      [
        'positions.optionDoNotExercise',
        () => alpaca.trading.positions.optionDoNotExercise({ symbolOrContractId: 'AAPL250620C00100000' }),
        'option exercise',
      ],
      [
        'corporateActions.getV2CorporateActionsAnnouncementsId',
        () => alpaca.trading.corporateActions.getV2CorporateActionsAnnouncementsId({ id: 'x1' }),
        '/v2/corporate_actions',
      ],
      [
        'cryptoFunding.createCryptoTransferForAccount',
        () =>
          alpaca.trading.cryptoFunding.createCryptoTransferForAccount({
            createCryptoTransferRequest: { address: 'addr', amount: '1', asset: 'BTC' },
          }),
        '/v2/wallets',
      ],
      [
        'cryptoFunding.createWhitelistedAddress',
        () =>
          alpaca.trading.cryptoFunding.createWhitelistedAddress({
            createWhitelistedAddressRequest: { address: 'addr', asset: 'BTC' },
          }),
        '/v2/wallets',
      ],
      [
        'cryptoFunding.deleteWhitelistedAddress',
        () => alpaca.trading.cryptoFunding.deleteWhitelistedAddress({ whitelistedAddressId: 'w1' }),
        '/v2/wallets',
      ],
      [
        'cryptoFunding.getCryptoFundingTransfer',
        () => alpaca.trading.cryptoFunding.getCryptoFundingTransfer({ transferId: 't1' }),
        '/v2/wallets',
      ],
      [
        'cryptoFunding.getCryptoTransferEstimate',
        () => alpaca.trading.cryptoFunding.getCryptoTransferEstimate({}),
        '/v2/wallets',
      ],
      [
        'cryptoFunding.listCryptoFundingTransfers',
        () => alpaca.trading.cryptoFunding.listCryptoFundingTransfers(),
        '/v2/wallets',
      ],
      [
        'cryptoFunding.listWhitelistedAddress',
        () => alpaca.trading.cryptoFunding.listWhitelistedAddress(),
        '/v2/wallets',
      ],
      [
        'locates.createLocates',
        () => alpaca.trading.locates.createLocates({ createLocateRequest: { qty: 1, symbol: 'ACME' } }),
        '/v1/locates',
      ],
      ['locates.getLocate', () => alpaca.trading.locates.getLocate({ locateId: 'l1' }), '/v1/locates'],
      [
        'locates.listLocateQuotes',
        () => alpaca.trading.locates.listLocateQuotes({ symbols: 'ACME' }),
        '/v1/locates',
      ],
      [
        'tokenization.getTokenizationRequest',
        () => alpaca.trading.tokenization.getTokenizationRequest({ tokenizationRequestId: 'r1' }),
        '/v2/tokenization',
      ],
      [
        'tokenization.getTokenizationRequestByClientRequestID',
        () => alpaca.trading.tokenization.getTokenizationRequestByClientRequestID({ clientRequestId: 'c1' }),
        '/v2/tokenization',
      ],
      [
        'tokenization.postTokenizationMint',
        () =>
          alpaca.trading.tokenization.postTokenizationMint({
            tokenizationMintRequest: {
              issuer: 'xstocks',
              network: 'solana',
              qty: '1',
              underlyingSymbol: 'ACME',
              walletAddress: 'w',
            },
          }),
        '/v2/tokenization',
      ],
    ];
    for (const [name, run, what] of cases) it(`trading.${name}`, () => unsupported(run(), what));
  });

  describe('account activity helpers', () => {
    it('iterateActivities', async () => {
      expect((await drain(alpaca.trading.iterateActivities())).length).toBeGreaterThan(0);
    });
    it('iterateActivitiesByType and collectActivitiesByType (FILL)', async () => {
      const iterated = await drain(alpaca.trading.iterateActivitiesByType({ activityType: 'FILL' }));
      const collected = await alpaca.trading.collectActivitiesByType({ activityType: 'FILL' });
      expect(iterated.length).toBeGreaterThan(0);
      expect(collected.length).toBe(iterated.length);
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
      expect((await alpaca.data.getStockQuotes({ symbols: ['ACME'] })).ACME?.length).toBeGreaterThan(0);
      const candles = await alpaca.data.getStockCandlesFor('ACME', { timeframe: TimeFrame.Minute });
      expect(candles.close.length).toBeGreaterThan(0);
    });
    it('normalized helpers: getStockBars, getStockTrades, getStockQuotesFor, getStockCandles', async () => {
      const bars = await alpaca.data.getStockBars({ symbols: ['ACME', 'BOLT'], timeframe: TimeFrame.Minute });
      expect(Object.keys(bars)).toEqual(['ACME']);
      expect((await alpaca.data.getStockTrades({ symbols: ['ACME'] })).ACME?.[0]?.price).toBe(100);
      expect((await alpaca.data.getStockQuotesFor('ACME', {}))[0]?.askPrice).toBe(100);
      const candles = await alpaca.data.getStockCandles({ symbols: 'ACME', timeframe: TimeFrame.Minute });
      expect(candles.ACME?.close.length).toBeGreaterThan(0);
    });
    it('paging helpers, multi-symbol: iterate/collect StockBars, StockTrades, StockQuotes', async () => {
      const req = { symbols: ['ACME'], timeframe: TimeFrame.Minute };
      const bars = await drain(alpaca.data.iterateStockBars(req));
      expect(bars.length).toBeGreaterThan(0);
      expect((await alpaca.data.collectStockBarsBySymbol(req)).ACME?.length).toBe(bars.length);
      const trades = await drain(alpaca.data.iterateStockTrades({ symbols: ['ACME'] }));
      expect(trades.length).toBeGreaterThan(0);
      expect((await alpaca.data.collectStockTradesBySymbol({ symbols: ['ACME'] })).ACME?.length).toBe(
        trades.length,
      );
      const quotes = await drain(alpaca.data.iterateStockQuotes({ symbols: ['ACME'] }));
      expect(quotes.length).toBeGreaterThan(0);
      expect((await alpaca.data.collectStockQuotesBySymbol({ symbols: ['ACME'] })).ACME?.length).toBe(
        quotes.length,
      );
    });
    it('paging helpers, one symbol: iterate/collect StockBarSingle, StockTradeSingle, StockQuoteSingle', async () => {
      const req = { symbol: 'ACME', timeframe: TimeFrame.Minute };
      const bars = await drain(alpaca.data.iterateStockBarSingle(req));
      expect(bars.length).toBeGreaterThan(0);
      expect((await alpaca.data.collectStockBarSingle(req)).length).toBe(bars.length);
      const trades = await drain(alpaca.data.iterateStockTradeSingle({ symbol: 'ACME' }));
      expect(trades.length).toBeGreaterThan(0);
      expect((await alpaca.data.collectStockTradeSingle({ symbol: 'ACME' })).length).toBe(trades.length);
      const quotes = await drain(alpaca.data.iterateStockQuoteSingle({ symbol: 'ACME' }));
      expect(quotes.length).toBeGreaterThan(0);
      expect((await alpaca.data.collectStockQuoteSingle({ symbol: 'ACME' })).length).toBe(quotes.length);
    });
    it('news helpers: iterateNews and collectNews', async () => {
      const iterated = await drain(alpaca.data.iterateNews({ symbols: ['ACME'] }));
      expect((await alpaca.data.collectNews({ symbols: ['ACME'] })).length).toBe(iterated.length);
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

  describe('every other market-data call Bourse does not offer: a problem+json 501 naming it', () => {
    const md = () => alpaca.data;
    const crypto = { symbols: 'BTC/USD', loc: 'us' } as const;
    const option = { symbols: 'AAPL250620C00100000' } as const;
    const cases: [string, () => Promise<unknown>, string][] = [
      ['getStockAuctions', () => md().getStockAuctions({ symbols: 'ACME' }), 'auctions'],
      ['iterateStockAuctions', () => drain(md().iterateStockAuctions({ symbols: 'ACME' })), 'auctions'],
      [
        'collectStockAuctionsBySymbol',
        () => md().collectStockAuctionsBySymbol({ symbols: 'ACME' }),
        'auctions',
      ],
      [
        'iterateStockAuctionSingle',
        () => drain(md().iterateStockAuctionSingle({ symbol: 'ACME' })),
        'auctions',
      ],
      ['collectStockAuctionSingle', () => md().collectStockAuctionSingle({ symbol: 'ACME' }), 'auctions'],
      [
        'crypto.cryptoBars',
        () => md().crypto.cryptoBars({ ...crypto, timeframe: TimeFrame.Minute }),
        '/v1beta3/crypto',
      ],
      ['crypto.cryptoTrades', () => md().crypto.cryptoTrades(crypto), '/v1beta3/crypto'],
      ['crypto.cryptoQuotes', () => md().crypto.cryptoQuotes(crypto), '/v1beta3/crypto'],
      ['crypto.cryptoSnapshots', () => md().crypto.cryptoSnapshots(crypto), '/v1beta3/crypto'],
      ['crypto.cryptoLatestBars', () => md().crypto.cryptoLatestBars(crypto), '/v1beta3/crypto'],
      ['crypto.cryptoLatestQuotes', () => md().crypto.cryptoLatestQuotes(crypto), '/v1beta3/crypto'],
      ['crypto.cryptoLatestOrderbooks', () => md().crypto.cryptoLatestOrderbooks(crypto), '/v1beta3/crypto'],
      [
        'getCryptoBars',
        () => md().getCryptoBars({ ...crypto, timeframe: TimeFrame.Minute }),
        '/v1beta3/crypto',
      ],
      [
        'getCryptoBarsFor',
        () => md().getCryptoBarsFor('BTC/USD', { loc: 'us', timeframe: TimeFrame.Minute }),
        '/v1beta3/crypto',
      ],
      ['getCryptoTrades', () => md().getCryptoTrades(crypto), '/v1beta3/crypto'],
      ['getCryptoTradesFor', () => md().getCryptoTradesFor('BTC/USD', { loc: 'us' }), '/v1beta3/crypto'],
      ['getCryptoQuotes', () => md().getCryptoQuotes(crypto), '/v1beta3/crypto'],
      ['getCryptoQuotesFor', () => md().getCryptoQuotesFor('BTC/USD', { loc: 'us' }), '/v1beta3/crypto'],
      [
        'getCryptoCandles',
        () => md().getCryptoCandles({ ...crypto, timeframe: TimeFrame.Minute }),
        '/v1beta3/crypto',
      ],
      [
        'getCryptoCandlesFor',
        () => md().getCryptoCandlesFor('BTC/USD', { loc: 'us', timeframe: TimeFrame.Minute }),
        '/v1beta3/crypto',
      ],
      [
        'iterateCryptoBars',
        () => drain(md().iterateCryptoBars({ ...crypto, timeframe: TimeFrame.Minute })),
        '/v1beta3/crypto',
      ],
      [
        'collectCryptoBarsBySymbol',
        () => md().collectCryptoBarsBySymbol({ ...crypto, timeframe: TimeFrame.Minute }),
        '/v1beta3/crypto',
      ],
      ['iterateCryptoTrades', () => drain(md().iterateCryptoTrades(crypto)), '/v1beta3/crypto'],
      ['collectCryptoTradesBySymbol', () => md().collectCryptoTradesBySymbol(crypto), '/v1beta3/crypto'],
      ['iterateCryptoQuotes', () => drain(md().iterateCryptoQuotes(crypto)), '/v1beta3/crypto'],
      ['collectCryptoQuotesBySymbol', () => md().collectCryptoQuotesBySymbol(crypto), '/v1beta3/crypto'],
      [
        'cryptoPerpetualFutures.cryptoPerpLatestBars',
        () => md().cryptoPerpetualFutures.cryptoPerpLatestBars({ loc: 'global', symbols: 'BTC-PERP' }),
        '/v1beta1/crypto-perps',
      ],
      [
        'cryptoPerpetualFutures.cryptoPerpLatestQuotes',
        () => md().cryptoPerpetualFutures.cryptoPerpLatestQuotes({ loc: 'global', symbols: 'BTC-PERP' }),
        '/v1beta1/crypto-perps',
      ],
      [
        'cryptoPerpetualFutures.cryptoPerpLatestTrades',
        () => md().cryptoPerpetualFutures.cryptoPerpLatestTrades({ loc: 'global', symbols: 'BTC-PERP' }),
        '/v1beta1/crypto-perps',
      ],
      [
        'cryptoPerpetualFutures.cryptoPerpLatestOrderbooks',
        () => md().cryptoPerpetualFutures.cryptoPerpLatestOrderbooks({ loc: 'global', symbols: 'BTC-PERP' }),
        '/v1beta1/crypto-perps',
      ],
      [
        'cryptoPerpetualFutures.cryptoPerpLatestFuturesPricing',
        () =>
          md().cryptoPerpetualFutures.cryptoPerpLatestFuturesPricing({ loc: 'global', symbols: 'BTC-PERP' }),
        '/v1beta1/crypto-perps',
      ],
      [
        'fixedIncome.fixedIncomeLatestPrices',
        () => md().fixedIncome.fixedIncomeLatestPrices({ isins: 'US912797KS56' }),
        '/v1beta1/fixed_income',
      ],
      [
        'fixedIncome.fixedIncomeLatestQuotes',
        () => md().fixedIncome.fixedIncomeLatestQuotes({ isins: 'US912797KS56' }),
        '/v1beta1/fixed_income',
      ],
      ['forex.rates', () => md().forex.rates({ currencyPairs: 'EURUSD' }), '/v1beta1/forex'],
      [
        'iterateForexRates',
        () => drain(md().iterateForexRates({ currencyPairs: 'EURUSD' })),
        '/v1beta1/forex',
      ],
      [
        'collectForexRatesBySymbol',
        () => md().collectForexRatesBySymbol({ currencyPairs: 'EURUSD' }),
        '/v1beta1/forex',
      ],
      ['indices.indexValues', () => md().indices.indexValues({ symbols: 'SPX' }), '/v1beta1/indices'],
      [
        'indices.indexLatestValues',
        () => md().indices.indexLatestValues({ symbols: 'SPX' }),
        '/v1beta1/indices',
      ],
      ['getIndexValues', () => md().getIndexValues({ symbols: 'SPX' }), '/v1beta1/indices'],
      ['iterateIndexValues', () => drain(md().iterateIndexValues({ symbols: 'SPX' })), '/v1beta1/indices'],
      [
        'collectIndexValuesBySymbol',
        () => md().collectIndexValuesBySymbol({ symbols: 'SPX' }),
        '/v1beta1/indices',
      ],
      [
        'options.optionBars',
        () => md().options.optionBars({ ...option, timeframe: TimeFrame.Minute }),
        '/v1beta1/options',
      ],
      ['options.optionTrades', () => md().options.optionTrades(option), '/v1beta1/options'],
      [
        'options.optionChain',
        () => md().options.optionChain({ underlyingSymbol: 'AAPL' }),
        '/v1beta1/options',
      ],
      ['options.optionLatestQuotes', () => md().options.optionLatestQuotes(option), '/v1beta1/options'],
      ['options.optionLatestTrades', () => md().options.optionLatestTrades(option), '/v1beta1/options'],
      [
        'options.optionMetaConditions',
        () => md().options.optionMetaConditions({ ticktype: 'trade' }),
        '/v1beta1/options',
      ],
      ['options.optionMetaExchanges', () => md().options.optionMetaExchanges(), '/v1beta1/options'],
      [
        'getOptionBars',
        () => md().getOptionBars({ ...option, timeframe: TimeFrame.Minute }),
        '/v1beta1/options',
      ],
      [
        'getOptionBarsFor',
        () => md().getOptionBarsFor('AAPL250620C00100000', { timeframe: TimeFrame.Minute }),
        '/v1beta1/options',
      ],
      [
        'iterateOptionBars',
        () => drain(md().iterateOptionBars({ ...option, timeframe: TimeFrame.Minute })),
        '/v1beta1/options',
      ],
      [
        'collectOptionBarsBySymbol',
        () => md().collectOptionBarsBySymbol({ ...option, timeframe: TimeFrame.Minute }),
        '/v1beta1/options',
      ],
      ['iterateOptionTrades', () => drain(md().iterateOptionTrades(option)), '/v1beta1/options'],
      ['collectOptionTradesBySymbol', () => md().collectOptionTradesBySymbol(option), '/v1beta1/options'],
      ['iterateOptionSnapshots', () => drain(md().iterateOptionSnapshots(option)), '/v1beta1/options'],
      [
        'collectOptionSnapshotsBySymbol',
        () => md().collectOptionSnapshotsBySymbol(option),
        '/v1beta1/options',
      ],
      [
        'iterateOptionChain',
        () => drain(md().iterateOptionChain({ underlyingSymbol: 'AAPL' })),
        '/v1beta1/options',
      ],
      [
        'collectOptionChainBySymbol',
        () => md().collectOptionChainBySymbol({ underlyingSymbol: 'AAPL' }),
        '/v1beta1/options',
      ],
      [
        'iterateCorporateActionsPages',
        () => drain(md().iterateCorporateActionsPages({})),
        '/v1/corporate-actions',
      ],
      ['collectCorporateActions', () => md().collectCorporateActions({}), '/v1/corporate-actions'],
    ];
    for (const [name, run, what] of cases) it(`data.${name}`, () => unsupported(run(), what));
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

  it("a /v2 request's unknown fields are ignored and named in X-Bourse-Ignored-Fields; known values stay checked; /v1 stays strict", async () => {
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
    expect(placed.headers.get('x-bourse-ignored-fields')).toBeNull();
    const id = ((await placed.json()) as { id: string }).id;
    const replaced = await fetch(`${running.url}/v2/orders/${id}`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ order_id: id, qty: '2' }),
    });
    expect(replaced.status, await replaced.text()).toBe(200);
    expect(replaced.headers.get('x-bourse-ignored-fields')).toBe('order_id');
    // a misspelt field is ignored as Alpaca ignores it, and the header says so
    const typo = await fetch(`${running.url}/v2/orders?mystery=1`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ ...order, stop_prce: '1.00', take_profit: null, client_order_id: 'typo-1' }),
    });
    const typoText = await typo.text();
    expect(typo.status, typoText).toBe(200);
    expect(typo.headers.get('x-bourse-ignored-fields')).toBe('stop_prce,mystery');
    expect(JSON.parse(typoText)).toMatchObject({
      type: 'limit',
      stop_price: null,
      client_order_id: 'typo-1',
    });
    // nested objects too
    const nested = await fetch(`${running.url}/v2/orders`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        ...order,
        order_class: 'bracket',
        take_profit: { limit_price: '70.00', note: 'x' },
        stop_loss: { stop_price: '50.00' },
      }),
    });
    expect(nested.status, await nested.text()).toBe(200);
    expect(nested.headers.get('x-bourse-ignored-fields')).toBe('take_profit.note');
    const badValue = await fetch(`${running.url}/v2/orders`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ ...order, notional: 5, qty: '-1', extra: true }),
    });
    expect(badValue.status).toBe(422);
    expect(badValue.headers.get('content-type')).toContain('application/problem+json');
    // the /v2 routes the gateway forwards to market data and reporting ignore and name them too
    const auth = { 'apca-api-key-id': keyId, 'apca-api-secret-key': secret };
    for (const url of [
      '/v2/stocks/ACME/trades?limit=1&colour=red',
      '/v2/stocks/bars?symbols=ACME&timeframe=1Min&colour=red',
      '/v1beta1/news?colour=red',
      '/v2/account/portfolio/history?period=1M&colour=red',
    ]) {
      const res = await fetch(`${running.url}${url}`, { headers: auth });
      expect(res.status, `${url}: ${await res.text()}`).toBe(200);
      expect(res.headers.get('x-bourse-ignored-fields'), url).toBe('colour');
    }
    const forwardedBad = await fetch(`${running.url}/v2/stocks/ACME/trades?limit=0&colour=red`, {
      headers: auth,
    });
    expect(forwardedBad.status).toBe(400);
    expect(await forwardedBad.text()).toContain('limit');
    // Bourse's own routes refuse what they do not know
    // Bourse's own routes refuse what they do not know
    const strict = await fetch(`${running.url}/v1/admin/instruments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ symbol: 'STRICT', reference_price: '10.00', price_band_pct: 0, colour: 'red' }),
    });
    expect(strict.status).toBeGreaterThanOrEqual(400);
    expect(strict.status).toBeLessThan(500);
    expect(await strict.text()).toContain('colour');
    const strictForwarded = await fetch(`${running.url}/v1/market-data/news?colour=red`, { headers: auth });
    expect(strictForwarded.status).toBe(400);
    expect(await strictForwarded.text()).toContain('colour');
    await alpaca.trading.orders.deleteAllOrders();
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

  describe("the trading stream (/stream, trade_updates of the caller's own orders)", () => {
    const tradeStreamUrl = () => `${running.url.replace(/^http/, 'ws')}/stream`;
    type Update = { event: string; order: { id?: string; status?: string }; price?: unknown; qty?: unknown };

    async function listening(stream: ReturnType<Alpaca['trading']['stream']>): Promise<unknown> {
      stream.connect();
      expect(await stream.waitForAuthentication(10_000)).toBe(true);
      const subscribed = new Promise<unknown>((resolve) => stream.on('subscription', resolve));
      stream.subscribeTradeUpdates();
      return subscribed;
    }

    async function until<X>(what: string, poll: () => X | undefined, ms = 15_000): Promise<X> {
      const deadline = Date.now() + ms;
      for (;;) {
        const x = poll();
        if (x !== undefined) return x;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }

    it('trading.stream: new, replaced, canceled, partial_fill and fill, for its own orders only', async () => {
      const stream = alpaca.trading.stream({ url: tradeStreamUrl(), reconnect: false });
      const updates: Update[] = [];
      stream.onTradeUpdate((u) => updates.push(u as unknown as Update));
      try {
        expect(await listening(stream)).toEqual(['trade_updates']);
        const event = (id: string | undefined, name: string) =>
          until(`${name} of ${id}`, () => updates.find((u) => u.order.id === id && u.event === name));

        const resting = await alpaca.trading.orders.limit({
          symbol: 'ACME',
          side: 'buy',
          qty: 1,
          limitPrice: 90,
          timeInForce: 'gtc',
        });
        expect((await event(resting.id, 'new')).order.status).toBe('new');
        const replaced = await alpaca.trading.orders.patchOrderByOrderId({
          orderId: resting.id as string,
          patchOrderRequest: { limitPrice: '91' },
        });
        await event(replaced.id, 'replaced');
        await alpaca.trading.orders.deleteOrderByOrderID({ orderId: replaced.id as string });
        expect((await event(replaced.id, 'canceled')).order.status).toBe('canceled');

        // another account's offer of 1 share at 99.00: a buy of 2 fills 1 there and rests
        const offer = await http(
          'POST',
          '/v2/orders',
          {
            symbol: 'ACME',
            qty: '1',
            side: 'sell',
            type: 'limit',
            limit_price: '99.00',
            time_in_force: 'gtc',
          },
          sellerToken,
        );
        const partial = await alpaca.trading.orders.limit({
          symbol: 'ACME',
          side: 'buy',
          qty: 2,
          limitPrice: 99,
          timeInForce: 'gtc',
        });
        const fill1 = await event(partial.id, 'partial_fill');
        expect(fill1).toMatchObject({ price: '99.00', qty: '1' });
        expect(fill1.order.status).toBe('partially_filled');
        await alpaca.trading.orders.deleteOrderByOrderID({ orderId: partial.id as string });
        await event(partial.id, 'canceled');

        const full = await alpaca.trading.orders.limit({
          symbol: 'ACME',
          side: 'buy',
          qty: 1,
          limitPrice: 100,
          timeInForce: 'day',
        });
        expect(await event(full.id, 'fill')).toMatchObject({
          price: '100.00',
          qty: '1',
          order: { status: 'filled' },
        });
        // ownership: the seller's order events never reach the trader's stream
        const mine = new Set([resting.id, replaced.id, partial.id, full.id]);
        expect(updates.filter((u) => !mine.has(u.order.id ?? ''))).toEqual([]);
        expect(updates.some((u) => u.order.id === offer.id)).toBe(false);
      } finally {
        stream.disconnect();
      }
    });

    it('submitAndWait: places the order once the stream listens and resolves with it filled', async () => {
      const stream = alpaca.trading.stream({ url: tradeStreamUrl(), reconnect: false });
      try {
        stream.connect();
        expect(await stream.waitForAuthentication(10_000)).toBe(true);
        const order = await alpaca.trading.submitAndWait(
          { symbol: 'ACME', side: 'buy', type: 'limit', qty: 1, limitPrice: 100, timeInForce: 'day' },
          { stream, timeoutMs: 20_000 },
        );
        expect(order.status).toBe('filled');
      } finally {
        stream.disconnect();
      }
    });

    it('trading stream with a wrong secret: authorization fails and the socket closes', async () => {
      const wrong = new Alpaca({ keyId, secret: 'not-the-secret', retry: false, rateLimit: false });
      const stream = wrong.trading.stream({ url: tradeStreamUrl(), reconnect: false });
      try {
        stream.connect();
        expect(await stream.waitForAuthentication(10_000)).toBe(false);
      } finally {
        stream.disconnect();
      }
    });

    it('raw protocol: binary JSON frames, listen before auth is refused, unknown streams left out', async () => {
      const ws = new WebSocket(tradeStreamUrl());
      const frames: { text: string; binary: boolean }[] = [];
      ws.on('message', (data: Buffer, binary: boolean) =>
        frames.push({ text: data.toString('utf8'), binary }),
      );
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const next = (n: number) => until(`frame ${n}`, () => frames[n]);
      ws.send(JSON.stringify({ action: 'listen', data: { streams: ['trade_updates'] } }));
      expect(JSON.parse((await next(0)).text)).toMatchObject({
        action: 'error',
        data: { error_message: 'not authenticated' },
      });
      ws.send(JSON.stringify({ action: 'authenticate', data: { key_id: keyId, secret_key: secret } }));
      const auth = await next(1);
      expect(auth.binary).toBe(true);
      expect(JSON.parse(auth.text)).toEqual({
        stream: 'authorization',
        data: { action: 'authenticate', status: 'authorized' },
      });
      ws.send(JSON.stringify({ action: 'listen', data: { streams: ['trade_updates', 'account_updates'] } }));
      expect(JSON.parse((await next(2)).text)).toEqual({
        stream: 'listening',
        data: { streams: ['trade_updates'] },
      });
      ws.send('not json');
      expect(JSON.parse((await next(3)).text).action).toBe('error');
      ws.close();
    });
  });

  describe('paging (start, end, sort, page_token, limit)', () => {
    it('trades: next_page_token pages one symbol and many, asc and desc, without loss or repeat', async () => {
      const all = (await alpaca.data.stocks.stockTradeSingle({ symbol: 'ACME' })).trades;
      expect(all.length).toBeGreaterThan(3);
      const first = await alpaca.data.stocks.stockTradeSingle({ symbol: 'ACME', limit: 2 });
      expect(first.trades.length).toBe(2);
      expect(first.nextPageToken).toBeTruthy();
      const paged = await alpaca.data.collectStockTradeSingle({ symbol: 'ACME', limit: 2 });
      expect(paged.map((t) => [t.t, t.p, t.s])).toEqual(all.map((t) => [t.t, t.p, t.s]));
      const desc = await alpaca.data.collectStockTradeSingle({ symbol: 'ACME', limit: 3, sort: 'desc' });
      expect(desc.map((t) => [t.t, t.p, t.s])).toEqual([...all].reverse().map((t) => [t.t, t.p, t.s]));
      // several symbols: the limit counts across them, symbol by symbol
      const many = await alpaca.data.stocks.stockTrades({ symbols: 'ACME,BOLT', limit: 1 });
      expect(Object.values(many.trades).flat().length).toBe(1);
      expect(many.nextPageToken).toBeTruthy();
      const collected = await alpaca.data.collectStockTradesBySymbol({ symbols: ['ACME', 'BOLT'] }, {});
      expect(collected.ACME?.length).toBe(all.length);
      const bad = await fetch(`${running.url}/v2/stocks/ACME/trades?page_token=nonsense`, {
        headers: { 'apca-api-key-id': keyId, 'apca-api-secret-key': secret },
      });
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('page_token');
    });

    it('trades: start and end bound the range', async () => {
      const all = (await alpaca.data.stocks.stockTradeSingle({ symbol: 'ACME' })).trades;
      const last = all[all.length - 1]!;
      const only = await alpaca.data.stocks.stockTradeSingle({ symbol: 'ACME', start: new Date(last.t) });
      expect(only.trades.every((t) => t.t >= last.t)).toBe(true);
      const none = await alpaca.data.stocks.stockTradeSingle({
        symbol: 'ACME',
        end: all[0]!.t,
      });
      expect(none.trades).toEqual([]);
    });

    it('quotes: the history of the streamed quotes, paged one symbol and many, asc and desc', async () => {
      const key = (x: { t: Date; bp: number; ap: number }) => [x.t.getTime(), x.bp, x.ap];
      const all = (await alpaca.data.stocks.stockQuoteSingle({ symbol: 'ACME' })).quotes;
      // the top of ACME's book has moved many times by now: more than the latest quote is kept
      expect(all.length).toBeGreaterThan(2);
      expect(all.map((x) => x.t.getTime())).toEqual([...all.map((x) => x.t.getTime())].sort((x, y) => x - y));
      const first = await alpaca.data.stocks.stockQuoteSingle({ symbol: 'ACME', limit: 2 });
      expect(first.quotes.length).toBe(2);
      expect(first.nextPageToken).toBeTruthy();
      const paged = await alpaca.data.collectStockQuoteSingle({ symbol: 'ACME', limit: 2 });
      expect(paged.slice(0, all.length).map(key)).toEqual(all.map(key));
      const desc = await alpaca.data.stocks.stockQuoteSingle({ symbol: 'ACME', sort: 'desc', limit: 3 });
      expect(desc.quotes.map((x) => x.t.getTime())).toEqual(
        [...desc.quotes.map((x) => x.t.getTime())].sort((x, y) => y - x),
      );
      const window = await alpaca.data.stocks.stockQuoteSingle({
        symbol: 'ACME',
        start: all[1]!.t,
        end: all[2]!.t,
      });
      expect(window.quotes.map(key)).toEqual([key(all[1]!)]);
      const many = await alpaca.data.stocks.stockQuotes({ symbols: 'ACME,BOLT', limit: 1 });
      expect(Object.values(many.quotes).flat().length).toBe(1);
      expect(many.nextPageToken).toBeTruthy();
    });
  });

  describe('news: REST and stream on /v1beta1/news', () => {
    const items = [
      ['n1', 'ACME opens a plant', '2026-01-05T10:00:00Z'],
      ['n2', 'ACME beats estimates', '2026-01-06T10:00:00Z'],
      ['n3', 'ACME names a CEO', '2026-01-07T10:00:00Z'],
    ] as const;
    let served: (typeof items)[number][] = [];
    let rss: Server;
    const rssBody = () =>
      `<?xml version="1.0"?><rss version="2.0"><channel><title>wire</title>${served
        .map(
          ([guid, title, at]) =>
            `<item><guid>${guid}</guid><title>${title}</title><link>https://news.test/${guid}</link>` +
            `<pubDate>${new Date(at).toUTCString()}</pubDate><description>${title}.</description></item>`,
        )
        .join('')}</channel></rss>`;

    beforeAll(async () => {
      rss = createServer((_req, res) =>
        res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rssBody()),
      );
      await new Promise<void>((resolve) => rss.listen(0, '127.0.0.1', resolve));
      const { port } = rss.address() as AddressInfo;
      await http('POST', '/v1/market-data/feeds', {
        id: 'wire',
        kind: 'news',
        config: { url: `http://127.0.0.1:${port}/rss`, intervalMs: 1000 },
      });
    });
    afterAll(async () => {
      await new Promise((resolve) => rss?.close(resolve));
    });

    it('newsStream: authenticates, subscribes and receives a headline as the feed brings it', async () => {
      const stream = alpaca.data.newsStream({
        url: `${running.url.replace(/^http/, 'ws')}/v1beta1/news`,
        reconnect: false,
      });
      try {
        const news = new Promise<{ headline?: string; symbols: string[] }>((resolve) =>
          stream.onNews(resolve),
        );
        stream.connect();
        expect(await stream.waitForAuthentication(10_000)).toBe(true);
        const subscribed = new Promise<unknown>((resolve) => stream.on('subscription', resolve));
        stream.subscribeForNews(['ACME']);
        expect(await subscribed).toMatchObject({ news: ['ACME'] });
        served = [...items];
        expect(await news).toMatchObject({ symbols: ['ACME'] });
      } finally {
        stream.disconnect();
      }
    });

    it('news.news pages with page_token, honours sort, start and end; a plain GET still answers REST', async () => {
      const deadline = Date.now() + 15_000;
      while ((await alpaca.data.news.news({ symbols: 'ACME' })).news.length < 3 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      const first = await alpaca.data.news.news({ symbols: 'ACME', limit: 2 });
      expect(first.news.map((n) => n.headline)).toEqual(['ACME names a CEO', 'ACME beats estimates']);
      expect(first.nextPageToken).toBeTruthy();
      const second = await alpaca.data.news.news({
        symbols: 'ACME',
        limit: 2,
        pageToken: first.nextPageToken!,
      });
      expect(second.news.map((n) => n.headline)).toEqual(['ACME opens a plant']);
      expect(second.nextPageToken ?? null).toBeNull();
      const asc = await alpaca.data.collectNews({ symbols: 'ACME', sort: 'asc', limit: 1 });
      expect(asc.map((n) => n.headline)).toEqual([
        'ACME opens a plant',
        'ACME beats estimates',
        'ACME names a CEO',
      ]);
      const window = await alpaca.data.news.news({
        symbols: 'ACME',
        start: new Date('2026-01-06T00:00:00Z'),
        end: new Date('2026-01-07T00:00:00Z'),
      });
      expect(window.news.map((n) => n.headline)).toEqual(['ACME beats estimates']);
      const plain = await fetch(`${running.url}/v1beta1/news?symbols=ACME&limit=1`, {
        headers: { 'apca-api-key-id': keyId, 'apca-api-secret-key': secret },
      });
      expect(plain.status).toBe(200);
      expect(((await plain.json()) as { news: unknown[] }).news.length).toBe(1);
    });
  });

  describe('crypto and option streams: accepted, refused in Alpaca words, closed', () => {
    const base = () => running.url.replace(/^http/, 'ws');

    it('cryptoStream: the SDK reports insufficient subscription and the socket closes', async () => {
      const stream = alpaca.data.cryptoStream({ url: `${base()}/v1beta3/crypto/us`, reconnect: false });
      const errors: string[] = [];
      stream.onError((e) => errors.push(String(e)));
      try {
        stream.connect();
        const result = await stream.waitForAuthenticationResult(10_000);
        expect(result.authenticated).toBe(false);
        expect(errors).toContain('insufficient subscription');
      } finally {
        stream.disconnect();
      }
    });

    it('optionStream: the same', async () => {
      const stream = alpaca.data.optionStream({ url: `${base()}/v1beta1/indicative`, reconnect: false });
      const errors: string[] = [];
      stream.onError((e) => errors.push(String(e)));
      try {
        stream.connect();
        expect(await stream.waitForAuthentication(10_000)).toBe(false);
        expect(errors).toContain('insufficient subscription');
      } finally {
        stream.disconnect();
      }
    });

    it('raw: [{"T":"error","code":409,"msg":...}] names what is not served, then close', async () => {
      for (const [path, what] of [
        ['/v1beta3/crypto/us', 'crypto'],
        ['/v1beta1/opra', 'options'],
      ] as const) {
        const ws = new WebSocket(`${base()}${path}`);
        const frames: unknown[] = [];
        ws.on('message', (data: Buffer) => frames.push(...(JSON.parse(data.toString('utf8')) as unknown[])));
        const code = await new Promise<number>((resolve, reject) =>
          ws.once('close', resolve).once('error', reject),
        );
        expect(code).toBe(1008);
        expect(frames[0]).toEqual({ T: 'success', msg: 'connected' });
        expect(frames[1]).toMatchObject({ T: 'error', code: 409 });
        expect((frames[1] as { msg: string }).msg).toContain(`Bourse does not serve ${what}`);
      }
    });
  });

  it('every call of the SDK facade was made by a test above', () => {
    const missing = facadeCalls(alpaca).filter((call) => !made.has(call));
    expect(missing).toEqual([]);
    // the facade as read from the SDK: 16 trading APIs and helpers, 11 market-data APIs and helpers
    console.log(`alpaca-sdk: ${made.size} facade calls made, of ${facadeCalls(alpaca).length}`);
  });
});

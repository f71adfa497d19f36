/**
 * FIX order entry end to end, on PGlite and PostgreSQL: a jspurefix initiator over TCP in front of
 * the real orders service. Orders, fills made by orders from another channel (the orders client,
 * as REST and the web terminal reach it), replace and cancel with the ClOrdID chain, status,
 * bad input (rejected, nothing executed, the session stays up) and ownership.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createMemoryBus } from '../../src/platform/bus/memory.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { createFixService } from '../../src/services/fix/index.ts';
import { OrdersApiError, type OrdersClient, PROBLEM_BASE } from '../../src/services/orders/client.ts';
import { forEachDb } from '../support/db.ts';
import { eventually } from '../users/harness.ts';
import { FixClient } from './client.ts';
import {
  type FixStack,
  logger,
  monotonicClock,
  SYMBOL,
  startStack,
  TEST_FIX_CONFIG,
  type Trader,
} from './harness.ts';
import { cancel, expectExecutionReport, isReport, newOrder, replace, statusRequest } from './messages.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

forEachDb('FIX order entry', (makeDb) => {
  let stack: FixStack;
  beforeAll(async () => {
    stack = await startStack(await makeDb(), createMemoryBus({ logger }));
  });
  afterAll(async () => {
    await stack?.close();
  });

  let sessions = 0;
  async function logon(t: Trader): Promise<FixClient> {
    return FixClient.connect({
      port: stack.fix.port,
      senderCompId: `CLIENT${++sessions}`,
      username: t.keyId,
      password: t.secret,
    });
  }

  it('reports New, then partial and full fills made by orders from another channel', async () => {
    const buyer = await stack.trader();
    const seller = await stack.trader();
    const c = await logon(buyer);

    c.send('D', newOrder('buy-1', { side: '1', qty: 100, price: '99.50', tif: '1' }));
    const placed = await c.waitFor(isReport('buy-1', '0'), 'New');
    expectExecutionReport(placed, { 39: '0', 55: SYMBOL, 54: '1', 38: '100', 44: '99.50', 59: '1' });
    expect(placed.get(151)).toBe('100');
    expect(placed.get(14)).toBe('0');
    const orderId = Number(placed.get(37));
    const order = await stack.client.getOrder(buyer.userId, orderId);
    expect(order).toMatchObject({ price: 9950, qty: 100, clientOrderId: 'buy-1', status: 'new' });

    // the other side through the orders service's client, as the REST API reaches it
    await stack.client.submitOrder(seller.userId, {
      symbol: SYMBOL,
      side: 'sell',
      type: 'limit',
      qty: 30,
      price: 9950,
    });
    const partial = await c.waitFor(isReport('buy-1', 'F'), 'a partial fill');
    expectExecutionReport(partial, {
      37: String(orderId),
      39: '1',
      32: '30',
      31: '99.50',
      151: '70',
      14: '30',
      6: '99.50',
    });
    expect(partial.get(851)).toBe('1'); // resting: added liquidity

    await stack.client.submitOrder(seller.userId, {
      symbol: SYMBOL,
      side: 'sell',
      type: 'limit',
      qty: 70,
      price: 9950,
    });
    const full = await c.waitFor((m) => isReport('buy-1', 'F')(m) && m.get(39) === '2', 'the full fill');
    expectExecutionReport(full, { 32: '70', 151: '0', 14: '100', 6: '99.50' });
    expect(new Set(c.all((m) => m.msgType === '8').map((m) => m.get(17))).size).toBe(3); // unique ExecIDs
    await c.logout();
  });

  it('fills an aggressive order at once and reports each fill with its price', async () => {
    const buyer = await stack.trader();
    const seller = await stack.trader();
    await stack.client.submitOrder(seller.userId, {
      symbol: SYMBOL,
      side: 'sell',
      type: 'limit',
      qty: 5,
      price: 10_010,
    });
    await stack.client.submitOrder(seller.userId, {
      symbol: SYMBOL,
      side: 'sell',
      type: 'limit',
      qty: 5,
      price: 10_020,
    });
    const c = await logon(buyer);
    c.send('D', newOrder('agg-1', { side: '1', qty: 10, price: '100.20', tif: '3' }));
    await c.waitFor(isReport('agg-1', '0'), 'New');
    const fills = [
      await c.waitFor((m) => isReport('agg-1', 'F')(m) && m.get(14) === '5', 'first fill'),
      await c.waitFor((m) => isReport('agg-1', 'F')(m) && m.get(14) === '10', 'second fill'),
    ];
    expect(fills.map((f) => f.get(31))).toEqual(['100.10', '100.20']);
    expect(fills[1]!.get(6)).toBe('100.15');
    expect(fills[1]!.get(39)).toBe('2');
    expect(fills[0]!.get(851)).toBe('2'); // took liquidity
    expect(fills[0]!.get(12)).toBeDefined(); // commission
    await c.logout();
  });

  it('replaces and cancels along the ClOrdID chain, and refuses what cannot be done', async () => {
    const t = await stack.trader();
    const c = await logon(t);
    c.send('D', newOrder('c-1', { side: '1', qty: 50, price: '98.00', tif: '1' }));
    const placed = await c.waitFor(isReport('c-1', '0'), 'New');
    const orderId = placed.get(37)!;

    c.send('G', replace('c-2', 'c-1', { qty: 40, price: '98.10' }));
    const replaced = await c.waitFor(isReport('c-2', '5'), 'Replaced');
    expectExecutionReport(replaced, { 37: orderId, 41: 'c-1', 38: '40', 44: '98.10', 39: '0', 151: '40' });

    c.send('F', cancel('c-3', 'c-2'));
    const canceled = await c.waitFor(isReport('c-3', '4'), 'Canceled');
    expectExecutionReport(canceled, { 37: orderId, 41: 'c-2', 39: '4', 151: '0' });
    expect(await stack.client.getOrder(t.userId, Number(orderId))).toMatchObject({
      status: 'canceled',
      qty: 40,
      price: 9810,
    });

    c.send('F', cancel('c-4', 'c-3'));
    const late = await c.waitFor((m) => m.msgType === '9' && m.get(11) === 'c-4', 'a cancel reject');
    expect(late.get(434)).toBe('1');
    expect(late.get(102)).toBe('0'); // too late to cancel
    expect(late.get(39)).toBe('4');
    expect(late.get(58)).toMatch(/canceled/);

    c.send('G', replace('c-5', 'no-such-order', { qty: 10, price: '98.00' }));
    const unknown = await c.waitFor((m) => m.msgType === '9' && m.get(11) === 'c-5', 'a replace reject');
    expect(unknown.get(434)).toBe('2');
    expect(unknown.get(102)).toBe('1'); // unknown order
    await c.logout();
  });

  it('reports what other channels do to its orders: a cancel through REST, an IOC remainder', async () => {
    const t = await stack.trader();
    const c = await logon(t);
    c.send('D', newOrder('o-rest', { side: '2', qty: 10, price: '150.00', tif: '1' }));
    const placed = await c.waitFor(isReport('o-rest', '0'), 'New');
    await stack.client.cancelOrder(t.userId, Number(placed.get(37)));
    const canceled = await c.waitFor(isReport('o-rest', '4'), 'unsolicited Canceled');
    expect(canceled.get(41)).toBeUndefined();
    expect(canceled.get(58)).toMatch(/another channel/);

    c.send('D', newOrder('o-ioc', { side: '2', qty: 10, price: '150.00', tif: '3' }));
    const ioc = await c.waitFor(isReport('o-ioc', '4'), 'IOC remainder canceled');
    expect(ioc.get(58)).toMatch(/IOC/);
    await c.logout();
  });

  it('answers OrderStatusRequest for known and unknown orders', async () => {
    const t = await stack.trader();
    const c = await logon(t);
    c.send('D', newOrder('s-1', { qty: 7, price: '90.00', tif: '1' }));
    const placed = await c.waitFor(isReport('s-1', '0'), 'New');
    c.send('H', statusRequest('s-1', { reqId: 'q1' }));
    const status = await c.waitFor((m) => isReport('s-1', 'I')(m), 'status');
    expectExecutionReport(status, { 37: placed.get(37)!, 39: '0', 790: 'q1', 151: '7', 14: '0' });

    c.send('H', statusRequest('never-sent', { reqId: 'q2' }));
    const unknown = await c.waitFor((m) => m.msgType === '8' && m.get(11) === 'never-sent', 'unknown status');
    expect(unknown.get(150)).toBe('I');
    expect(unknown.get(39)).toBe('8');
    await c.logout();
  });

  it('reports a held bracket leg as Pending New and open: status, and a cancel of it', async () => {
    const t = await stack.trader();
    // the bracket through the orders service's client, as REST places it (FIX 4.4 has no bracket)
    const { order: entry } = await stack.client.submitOrder(t.userId, {
      symbol: SYMBOL,
      side: 'buy',
      type: 'limit',
      tif: 'gtc',
      qty: 5,
      price: 8_000,
      orderClass: 'bracket',
      takeProfit: { price: 12_000 },
      stopLoss: { stopPrice: 7_000 },
    });
    const leg = entry.legs?.[0];
    expect(leg?.status).toBe('held');
    const c = await logon(t);
    c.send('H', statusRequest('held-q', { orderId: String(leg!.id), side: '2', reqId: 'q-held' }));
    const status = await c.waitFor((m) => m.msgType === '8' && m.get(790) === 'q-held', 'status');
    expectExecutionReport(status, { 37: String(leg!.id), 150: 'I', 39: 'A', 151: '5', 14: '0' });
    c.send('F', cancel('held-x', 'held-q', { orderId: String(leg!.id), side: '2' }));
    const canceled = await c.waitFor(isReport('held-x', '4'), 'Canceled');
    expectExecutionReport(canceled, { 37: String(leg!.id), 41: 'held-q', 39: '4', 151: '0' });
    await c.logout();
  });

  it('rejects bad input with a reason, executes nothing and keeps the session up', async () => {
    const t = await stack.trader();
    const c = await logon(t);
    const rejected = async (clOrdId: string, body: Record<string, unknown>) => {
      c.send('D', body);
      const m = await c.waitFor(isReport(clOrdId, '8'), `reject of ${clOrdId}`);
      expectExecutionReport(m, { 39: '8', 37: 'NONE', 151: '0', 14: '0' });
      expect(m.get(58)?.length).toBeGreaterThan(5);
      return m;
    };

    const offTick = await rejected('bad-tick', newOrder('bad-tick', { price: '99.505' }));
    expect(offTick.get(58)).toMatch(/off the price grid/);
    const fraction = await rejected('bad-qty', newOrder('bad-qty', { qty: '10.5', price: '99.00' }));
    expect(fraction.get(103)).toBe('13');
    expect((await rejected('bad-side', newOrder('bad-side', { side: '5', price: '99.00' }))).get(103)).toBe(
      '11',
    );
    expect(
      (await rejected('bad-type', newOrder('bad-type', { ordType: 'J', price: '99.00' }))).get(103),
    ).toBe('11');
    expect(
      (await rejected('bad-sym', newOrder('bad-sym', { symbol: 'NOPE', price: '99.00' }))).get(103),
    ).toBe('1');
    const funds = await rejected('too-big', newOrder('too-big', { qty: 1_000_000, price: '99.00' }));
    expect(funds.get(103)).toBe('3');
    expect(funds.get(58)).toMatch(/funds/i);
    const floor = await rejected('iceberg', newOrder('iceberg', { price: '99.00', extra: { MaxFloor: 1 } }));
    expect(floor.get(58)).toMatch(/MaxFloor/);

    // a limit order without its price cannot be understood: session-level Reject
    c.send('D', newOrder('no-price'));
    const noPrice = await c.waitFor((m) => m.msgType === '3' && m.get(371) === '44', 'Reject naming Price');
    expect(noPrice.get(373)).toBe('1');
    expect(noPrice.get(58)).toMatch(/Price \(44\)/);
    c.send('D', newOrder('bad-num', { price: 'abc' }));
    const badNumber = await c.waitFor(
      (m) => m.msgType === '3' && m.get(58)?.includes('abc') === true,
      'Reject of abc',
    );
    expect(badNumber.get(373)).toBe('6');

    // a message type Bourse does not take
    c.send('AF', { MassStatusReqID: 'm1', MassStatusReqType: 7 });
    const unsupported = await c.waitFor((m) => m.msgType === 'j', 'BusinessMessageReject');
    expect(unsupported.get(372)).toBe('AF');
    expect(unsupported.get(380)).toBe('3');

    // a reused ClOrdID
    c.send('D', newOrder('dup', { price: '90.00', tif: '1' }));
    await c.waitFor(isReport('dup', '0'), 'New');
    c.send('D', newOrder('dup', { price: '91.00', tif: '1' }));
    expect((await c.waitFor(isReport('dup', '8'), 'duplicate')).get(103)).toBe('6');

    // still up: a TestRequest is answered, and only the one valid order exists
    c.send('1', { TestReqID: 'still-there' });
    await c.waitFor((m) => m.msgType === '0' && m.get(112) === 'still-there', 'Heartbeat');
    const open = await stack.client.listOrders(t.userId, { status: 'open' });
    expect(open.items.map((o) => o.clientOrderId)).toEqual(['dup']);
    // the orders the engine refused are on record as rejected, with nothing filled
    const all = await stack.client.listOrders(t.userId, { status: 'all' });
    for (const o of all.items.filter((x) => x.clientOrderId !== 'dup')) {
      expect(o).toMatchObject({ status: 'rejected', filledQty: 0 });
    }
    expect((await stack.client.accountTrades(t.userId)).items).toEqual([]);
    await c.logout();
    expect(await c.ended).toBeUndefined();
  });

  it('places a trailing stop (OrdType P, ExecInst a): its StopPx follows the market, a replace changes the trail, it triggers and fills', async () => {
    const t = await stack.trader();
    const a = await stack.trader();
    const b = await stack.trader();
    const cents = (px: string | undefined) => Math.round(Number(px) * 100);
    const px = (c: number) => (c / 100).toFixed(2);
    /** a trade between a and b at `price` cents (a buys, b sells) */
    const tradeAt = async (price: number) => {
      await stack.client.submitOrder(a.userId, { symbol: SYMBOL, side: 'buy', type: 'limit', qty: 1, price });
      await stack.client.submitOrder(b.userId, {
        symbol: SYMBOL,
        side: 'sell',
        type: 'limit',
        qty: 1,
        price,
      });
    };
    const trailing = (extra: Record<string, unknown>) =>
      newOrder('ts-1', { side: '2', qty: 10, ordType: 'P', tif: '1', extra: { ExecInst: 'a', ...extra } });

    const c = await logon(t);
    c.send('D', trailing({ PegInstructions: { PegOffsetValue: '1.00' } }));
    const placed = await c.waitFor(isReport('ts-1', '0'), 'New');
    expectExecutionReport(placed, { 39: '0', 40: 'P', 18: 'a', 211: '1.00', 54: '2', 151: '10' });
    const orderId = Number(placed.get(37));
    const start = cents(placed.get(99));
    const order = await stack.client.getOrder(t.userId, orderId);
    expect(order).toMatchObject({ orderType: 'trailing_stop', trailPrice: 100, stopPrice: start });
    const hwm0 = order.hwm!;
    expect(start).toBe(hwm0 - 100);

    // the market rises 2.00: the stop follows, reported as a restatement (not a replace)
    await tradeAt(hwm0 + 200);
    const moved = await c.waitFor(isReport('ts-1', 'D'), 'Restated');
    expectExecutionReport(moved, { 37: String(orderId), 39: '0', 378: '3', 99: px(hwm0 + 100), 151: '10' });
    expect(moved.get(41)).toBeUndefined();

    // a replace tightens the trail to 0.50 of the high-water mark (one without ExecInst a is refused)
    c.send('G', replace('ts-2', 'ts-1', { qty: 10, side: '2', ordType: 'P' }));
    c.send('G', {
      ...replace('ts-3', 'ts-1', { qty: 10, side: '2', ordType: 'P' }),
      ExecInst: 'a',
      PegInstructions: { PegOffsetValue: '0.50' },
    });
    // ts-2 has no ExecInst a: refused, the order is unchanged
    const noPeg = await c.waitFor((m) => m.msgType === '9' && m.get(11) === 'ts-2', 'replace reject');
    expect(noPeg.get(58)).toMatch(/ExecInst \(18\)/);
    const replaced = await c.waitFor(isReport('ts-3', '5'), 'Replaced');
    expectExecutionReport(replaced, { 41: 'ts-1', 40: 'P', 211: '0.50', 99: px(hwm0 + 150), 39: '0' });

    // a fall to the stop triggers it: a market sell that fills against the bid there
    const stop = hwm0 + 150;
    await stack.client.submitOrder(a.userId, {
      symbol: SYMBOL,
      side: 'buy',
      type: 'limit',
      qty: 11,
      price: stop,
    });
    await stack.client.submitOrder(b.userId, {
      symbol: SYMBOL,
      side: 'sell',
      type: 'limit',
      qty: 1,
      price: stop,
    });
    await c.waitFor(isReport('ts-3', 'L'), 'Triggered');
    const filled = await c.waitFor((m) => isReport('ts-3', 'F')(m) && m.get(39) === '2', 'filled');
    expectExecutionReport(filled, { 31: px(stop), 14: '10', 151: '0' });
    await c.logout();
  });

  it('refuses a trailing stop with a bad or missing PegOffsetValue, executes nothing and keeps the session up', async () => {
    const t = await stack.trader();
    const c = await logon(t);
    const trailing = (clOrdId: string, extra: Record<string, unknown>) =>
      newOrder(clOrdId, { side: '2', qty: 10, ordType: 'P', extra: { ExecInst: 'a', ...extra } });
    for (const [clOrdId, peg, why] of [
      ['ts-zero', { PegOffsetValue: '0' }, /PegOffsetValue \(211\) 0: .*positive/],
      ['ts-neg', { PegOffsetValue: '-1.00' }, /PegOffsetValue \(211\) -1.00: .*positive/],
      ['ts-bps', { PegOffsetValue: '5', PegOffsetType: 2 }, /PegOffsetType \(836\) 2 is not supported/],
    ] as const) {
      c.send('D', trailing(clOrdId, { PegInstructions: peg }));
      const m = await c.waitFor(isReport(clOrdId, '8'), `reject of ${clOrdId}`);
      expectExecutionReport(m, { 39: '8', 37: 'NONE', 151: '0', 14: '0' });
      expect(m.get(58)).toMatch(why);
    }
    // without a trail it cannot be understood: a session-level Reject naming the tag
    c.send('D', trailing('ts-none', {}));
    const none = await c.waitFor((m) => m.msgType === '3' && m.get(371) === '211', 'Reject naming 211');
    expect(none.get(58)).toMatch(/PegOffsetValue \(211\) is required/);

    c.send('1', { TestReqID: 'after-pegs' });
    await c.waitFor((m) => m.msgType === '0' && m.get(112) === 'after-pegs', 'Heartbeat');
    expect((await stack.client.listOrders(t.userId, { status: 'all' })).items).toEqual([]);
    await c.logout();
    expect(await c.ended).toBeUndefined();
  });

  it('lets a broker trade for a client of its brokerage with Account (1), and not for anyone else', async () => {
    const brokerageId = await stack.users.brokerage();
    const broker = await stack.trader({ role: 'broker', brokerageId });
    const client = await stack.users.user({ brokerageId });
    const outsider = await stack.trader();
    await stack.client.deposit(client.id, { amount: 10_000_000 });
    const b = await logon(broker);
    b.send('D', newOrder('for-client', { qty: 3, price: '94.00', tif: '1', account: client.id }));
    const placed = await b.waitFor(isReport('for-client', '0'), 'New for the client');
    expect(placed.get(1)).toBe(client.id);
    expect((await stack.client.getOrder(client.id, Number(placed.get(37)))).clientOrderId).toBe('for-client');
    b.send('F', cancel('for-client-x', 'for-client'));
    await b.waitFor(isReport('for-client-x', '4'), 'Canceled');
    b.send('D', newOrder('for-outsider', { qty: 3, price: '94.00', account: outsider.userId }));
    expect((await b.waitFor(isReport('for-outsider', '8'), 'reject')).get(103)).toBe('15');
    await b.logout();
  });

  it('finds out what happened when the orders service does not answer a new order', async () => {
    // the real orders service behind a faulty connection: the answer is lost after the order
    // was executed ('lost-after'), or the request never reaches it ('lost-before')
    const unavailable = () =>
      new OrdersApiError({ type: `${PROBLEM_BASE}unavailable`, title: 'Service unavailable', status: 503 });
    const faulty: OrdersClient = {
      ...stack.client,
      submitOrder: async (account, request) => {
        if (request.clientOrderId === 'lost-before') throw unavailable();
        await stack.client.submitOrder(account, request);
        throw unavailable();
      },
    };
    const fix = await createFixService({
      db: stack.db,
      bus: stack.bus,
      clock: monotonicClock(),
      logger,
      orders: faulty,
      users: stack.users.svc.client,
      limiter: stack.limiter,
      config: TEST_FIX_CONFIG,
    });
    try {
      const t = await stack.trader();
      const c = await FixClient.connect({
        port: fix.port,
        senderCompId: 'FAULTY',
        username: t.keyId,
        password: t.secret,
      });
      c.send('D', newOrder('lost-after', { qty: 2, price: '93.00', tif: '1' }));
      const placed = await c.waitFor(isReport('lost-after', '0'), 'New, found by its ClOrdID');
      expect((await stack.client.getOrderByClientId(t.userId, 'lost-after')).id).toBe(Number(placed.get(37)));
      c.send('D', newOrder('lost-before', { qty: 2, price: '93.00', tif: '1' }));
      const rejected = await c.waitFor(isReport('lost-before', '8'), 'reject: not executed');
      expect(rejected.get(58)).toMatch(/not executed/);
      await c.logout();
    } finally {
      await fix.close();
    }
  });

  it('does not judge an order of its own connection, still in flight, lost at the logon reconciliation', async () => {
    // failed once in CI: the logon's reconciliation ran while a new order of the same connection
    // was recorded but not yet placed, found no order with that ClOrdID and rejected it as never
    // received; then the order was placed and reported New. Here every step is held open in turn.
    const gate = () => {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      return { open, opened };
    };
    const reportsRead = gate();
    const placing = new Map<string, ReturnType<typeof gate>>();
    const held = (cid: string) => placing.get(cid) ?? placing.set(cid, gate()).get(cid)!;
    const db = new Proxy(stack.db, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'query') return typeof value === 'function' ? value.bind(target) : value;
        return async (sql: string, ...rest: unknown[]) => {
          const result = await (value as Db['query']).call(target, sql, ...(rest as []));
          // the logon's read of the reports still open: held until opened
          if (sql.includes('FROM fix_order_reports WHERE session_id = $1 AND open')) await reportsRead.opened;
          return result;
        };
      },
    });
    const reconciled = gate();
    const orders: OrdersClient = {
      ...stack.client,
      submitOrder: async (account, request) => {
        await held(request.clientOrderId ?? '').opened;
        return stack.client.submitOrder(account, request);
      },
      // the reconciliation's last step reads the session's tracked orders (f-1) again
      getOrder: (account, id) => {
        reconciled.open();
        return stack.client.getOrder(account, id);
      },
    };
    const recorded = async (clOrdId: string) =>
      (await stack.db.query('SELECT 1 FROM fix_orders WHERE cl_ord_id = $1', [clOrdId])).rowCount === 1;
    const fix = await createFixService({
      db,
      bus: stack.bus,
      clock: monotonicClock(),
      logger,
      orders,
      users: stack.users.svc.client,
      limiter: stack.limiter,
      config: TEST_FIX_CONFIG,
    });
    try {
      const t = await stack.trader();
      const c = await FixClient.connect({
        port: fix.port,
        senderCompId: 'IN-FLIGHT',
        username: t.keyId,
        password: t.secret,
      });
      // f-1 is taken in, its placing held: its report holds the session's reports behind it
      c.send('D', newOrder('f-1', { qty: 1, price: '93.00', tif: '1' }));
      await eventually(async () => (await recorded('f-1')) || undefined);
      // the logon's start goes on: the reconciliation is queued behind f-1's report
      reportsRead.open();
      await new Promise((resolve) => setImmediate(resolve));
      // f-2 is recorded, its placing held, while the reconciliation waits for its turn
      c.send('D', newOrder('f-2', { qty: 1, price: '93.00', tif: '1' }));
      await eventually(async () => (await recorded('f-2')) || undefined);
      held('f-1').open(); // f-1's report, then the reconciliation
      await c.waitFor(isReport('f-1', '0'), 'New f-1');
      await reconciled.opened;
      held('f-2').open();
      await c.waitFor(isReport('f-2', '0'), 'New f-2');
      const aboutF2 = c.received.filter((m) => m.get(11) === 'f-2').map((m) => `${m.msgType}:${m.get(150)}`);
      expect(aboutF2).toEqual(['8:0']);
      await c.logout();
    } finally {
      for (const g of [reportsRead, reconciled, held('f-1'), held('f-2')]) g.open();
      await fix.close();
    }
  });

  it('keeps accounts apart: an investor cannot act for another account or touch its orders', async () => {
    const alice = await stack.trader();
    const mallory = await stack.trader();
    const a = await logon(alice);
    a.send('D', newOrder('alice-1', { qty: 5, price: '95.00', tif: '1' }));
    const placed = await a.waitFor(isReport('alice-1', '0'), 'New');

    const m = await logon(mallory);
    m.send('D', newOrder('m-1', { qty: 5, price: '95.00', account: alice.userId }));
    const refused = await m.waitFor(isReport('m-1', '8'), 'reject');
    expect(refused.get(103)).toBe('15');
    m.send('F', cancel('m-2', 'alice-1', { orderId: placed.get(37)! }));
    const cxl = await m.waitFor((x) => x.msgType === '9' && x.get(11) === 'm-2', 'cancel reject');
    expect(cxl.get(102)).toBe('1'); // unknown order: nobody learns another account's orders
    m.send('H', statusRequest('alice-1', { orderId: placed.get(37)! }));
    expect((await m.waitFor((x) => x.msgType === '8' && x.get(11) === 'alice-1', 'status')).get(39)).toBe(
      '8',
    );
    expect((await stack.client.getOrder(alice.userId, Number(placed.get(37)))).status).toBe('new');
    await m.logout();
    await a.logout();
  });
});

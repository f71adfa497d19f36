/** Price alerts evaluated on the trade tape (`md.trade.<SYMBOL>`): fire once, into the inbox. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TradeMessage } from '../../src/services/orders/events.ts';
import { forEachBus } from '../support/bus.ts';
import { forEachDb } from '../support/db.ts';
import { eventually, expectProblem, type Harness, makeHarness, SETUP_MS, type TestUser } from './harness.ts';

let tradeId = 1;
let symbols = 0;
const symbol = () =>
  `Z${(Date.now() % 1e6).toString(36).toUpperCase()}${String.fromCharCode(65 + (symbols++ % 26))}`;

forEachDb('users: price alerts', (makeDb) => {
  forEachBus('on the trade tape', (makeBus) => {
    let h: Harness;
    let h2: Harness;
    let a: TestUser;
    let b: TestUser;

    beforeAll(async () => {
      const db = await makeDb();
      const bus = await makeBus();
      h = await makeHarness(db, { bus });
      h2 = await makeHarness(db, { bus, clock: h.clock });
      a = await h.user();
      b = await h.user();
    }, SETUP_MS);
    afterAll(async () => {
      await h2?.close();
      await h?.close();
    });

    const create = (u: TestUser, payload: object) =>
      h.req({ method: 'POST', url: '/alerts', headers: u.auth, payload });
    const trade = (sym: string, price: number) =>
      h.bus.publish(`md.trade.${sym}`, {
        seq: tradeId,
        tradeId: tradeId++,
        ts: Date.now(),
        symbol: sym,
        price,
        qty: 1,
        aggressor: 'buy',
      } satisfies TradeMessage);
    const alertNotes = async (u: TestUser) =>
      (
        (await h.req({ method: 'GET', url: '/notifications?limit=200', headers: u.auth })).json()
          .notifications as {
          kind: string;
          title: string;
          data: Record<string, string>;
        }[]
      ).filter((n) => n.kind === 'price_alert');
    /**
     * Waits until the trades published so far have been processed: a marker alert on a fresh
     * symbol fires on a marker trade published after them (the tape is FIFO per subscription).
     */
    const settle = async () => {
      const marker = symbol();
      const m = (await create(b, { symbol: marker, condition: 'below', price: '0.01' })).json();
      await trade(marker, 1);
      await eventually(async () =>
        (await alertNotes(b)).some((n) => n.data.alert_id === m.id) ? true : undefined,
      );
      await Promise.all([h.svc.idle(), h2.svc.idle()]);
    };

    it('validates: decimal price on the cent grid, upper-case symbol, known condition', async () => {
      const sym = symbol();
      expectProblem(await create(a, { symbol: sym, condition: 'above', price: '187.255' }), 400, 'price');
      expectProblem(await create(a, { symbol: sym, condition: 'above', price: '-1' }), 400, 'price');
      expectProblem(await create(a, { symbol: sym, condition: 'above', price: '0' }), 400, 'price');
      expectProblem(await create(a, { symbol: sym, condition: 'above', price: 187.25 }), 400, 'price');
      expectProblem(await create(a, { symbol: 'aapl', condition: 'above', price: '1' }), 400, 'symbol');
      expectProblem(await create(a, { symbol: 'A.B', condition: 'above', price: '1' }), 400, 'symbol');
      expectProblem(await create(a, { symbol: sym, condition: 'equals', price: '1' }), 400, 'condition');
      expectProblem(await create(a, { symbol: sym, price: '1' }), 400, 'condition');
      const list = (await h.req({ method: 'GET', url: '/alerts', headers: a.auth })).json();
      expect(list.alerts.filter((x: { symbol: string }) => x.symbol === sym)).toEqual([]);
    });

    it('fires once when the price crosses, with two instances watching', async () => {
      const sym = symbol();
      const res = await create(a, { symbol: sym, condition: 'above', price: '190' });
      expect(res.statusCode).toBe(201);
      const alert = res.json();
      expect(alert).toMatchObject({
        symbol: sym,
        condition: 'above',
        price: '190.00',
        status: 'active',
        triggered_at: null,
      });
      const below = (await create(a, { symbol: sym, condition: 'below', price: '180.50' })).json();

      await trade(sym, 18999);
      await settle();
      expect((await alertNotes(a)).filter((n) => n.data.symbol === sym)).toEqual([]);

      await trade(sym, 19000);
      await trade(sym, 19500);
      const notes = await eventually(async () => {
        const n = (await alertNotes(a)).filter((x) => x.data.alert_id === alert.id);
        return n.length > 0 ? n : undefined;
      });
      expect(notes[0]).toMatchObject({
        title: `${sym} traded at or above 190.00`,
        data: { symbol: sym, condition: 'above', price: '190.00' },
      });
      await trade(sym, 19900);
      await settle();
      // fired once, by one instance; the 'below' one not at all
      const mine = (await alertNotes(a)).filter((n) => n.data.symbol === sym);
      expect(mine.map((n) => n.data.alert_id)).toEqual([alert.id]);
      await trade(sym, 18050);
      const low = await eventually(async () => {
        const n = (await alertNotes(a)).filter((x) => x.data.alert_id === below.id);
        return n.length > 0 ? n : undefined;
      });
      expect(low[0]!.title).toBe(`${sym} traded at or below 180.50`);
      const after = (await h.req({ method: 'GET', url: `/alerts/${alert.id}`, headers: a.auth })).json();
      expect(after.status).toBe('triggered');
      expect(after.triggered_at).not.toBeNull();
      expect(['190.00', '195.00']).toContain(after.triggered_price);
      const active = (await h.req({ method: 'GET', url: '/alerts?status=active', headers: a.auth })).json()
        .alerts;
      expect(active.map((x: { id: string }) => x.id)).not.toContain(alert.id);
    });

    it('an alert created on one instance is evaluated by the others too', async () => {
      const sym = symbol();
      // created on h2, which then stops: only h is left to see the trade and fire the alert
      const created = await h2.req({
        method: 'POST',
        url: '/alerts',
        headers: b.auth,
        payload: { symbol: sym, condition: 'below', price: '10' },
      });
      expect(created.statusCode, created.body).toBe(201);
      const alert = created.json();
      await h2.close();
      // h learns of alerts created elsewhere on its next threshold reload (every 5 s): until then
      // it lets a trade pass unchecked, so the tape keeps trading until h fires the alert
      await eventually(async () => {
        await trade(sym, 999);
        await h.svc.idle();
        return (await alertNotes(b)).some((n) => n.data.alert_id === alert.id) ? true : undefined;
      });
      h2 = await makeHarness(h.db, { bus: h.bus, clock: h.clock }); // for afterAll
    });

    it("ownership: another user's alert is 404 to read or delete; lists show only your own", async () => {
      const sym = symbol();
      const alert = (await create(a, { symbol: sym, condition: 'above', price: '5' })).json();
      expectProblem(await h.req({ method: 'GET', url: `/alerts/${alert.id}`, headers: b.auth }), 404);
      expectProblem(await h.req({ method: 'DELETE', url: `/alerts/${alert.id}`, headers: b.auth }), 404);
      const theirs = (await h.req({ method: 'GET', url: '/alerts?limit=200', headers: b.auth })).json()
        .alerts;
      expect(theirs.map((x: { id: string }) => x.id)).not.toContain(alert.id);
      expect((await h.req({ method: 'GET', url: `/alerts/${alert.id}`, headers: a.auth })).statusCode).toBe(
        200,
      );
      expect(
        (await h.req({ method: 'DELETE', url: `/alerts/${alert.id}`, headers: a.auth })).statusCode,
      ).toBe(204);
      expectProblem(await h.req({ method: 'DELETE', url: `/alerts/${alert.id}`, headers: a.auth }), 404);
      // a deleted alert never fires
      await trade(sym, 600);
      await settle();
      expect((await alertNotes(a)).filter((n) => n.data.alert_id === alert.id)).toEqual([]);
    });

    it('pages the list', async () => {
      const u = await h.user();
      const sym = symbol();
      for (const p of ['1', '2', '3']) await create(u, { symbol: sym, condition: 'above', price: p });
      const p1 = (await h.req({ method: 'GET', url: '/alerts?limit=2', headers: u.auth })).json();
      expect(p1.alerts.map((x: { price: string }) => x.price)).toEqual(['1.00', '2.00']);
      const p2 = (
        await h.req({ method: 'GET', url: `/alerts?limit=2&cursor=${p1.next_cursor}`, headers: u.auth })
      ).json();
      expect(p2.alerts.map((x: { price: string }) => x.price)).toEqual(['3.00']);
      expect(p2.next_cursor).toBeNull();
    });
  });
});

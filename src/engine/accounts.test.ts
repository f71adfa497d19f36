import { describe, expect, it } from 'vitest';
import { FEES, market, ofType } from './test-kit.ts';

describe('risk', () => {
  it('a buy needs available cash for price × qty plus the maximum fee', () => {
    const m = market({ fund: false });
    m.deposit('D', 99_197); // 10 × 9,900 + 198 = 99,198
    m.rejects(m.buy(10, 9_900, { account: 'D' }), 'insufficient_funds');
    m.deposit('D', 1);
    m.ok(m.buy(10, 9_900, { account: 'D' }));
    expect(m.cash('D')).toEqual({ cash: 99_198, reserved: 99_198 });
    m.rejects(m.buy(1, 1, { account: 'D' }), 'insufficient_funds'); // nothing left available
  });

  it('a sell needs free shares: no shorting, and shares held by other sells do not count', () => {
    const m = market({ fund: false });
    m.deposit('D', 1);
    m.rejects(m.sell(1, 10_000, { account: 'D' }), 'insufficient_shares');
    m.shares('D', 10);
    m.ok(m.sell(6, 10_000, { account: 'D' }));
    m.rejects(m.sell(5, 10_100, { account: 'D' }), 'insufficient_shares');
    m.ok(m.sell(4, 10_100, { account: 'D' }));
    expect(m.held('D')).toEqual({ qty: 10, reserved: 10, cost: 100_000 });
  });
});

describe('deposits and withdrawals', () => {
  it('the first deposit opens the account', () => {
    const m = market({ fund: false });
    expect(m.x.account('D')).toBeUndefined();
    const events = m.ok({ type: 'deposit', ts: 1, account: 'D', amount: 500 });
    expect(events).toEqual([
      { type: 'balance', account: 'D', cash: 500, reserved: 0, cause: 'deposit', delta: 500 },
    ]);
    m.rejects({ type: 'deposit', ts: 1, account: 'D', amount: 0 }, 'invalid_amount');
    m.rejects({ type: 'deposit', ts: 1, account: 'D', amount: 1.5 }, 'invalid_amount');
    m.rejects({ type: 'deposit', ts: 1, account: 'D', amount: Number.MAX_SAFE_INTEGER }, 'invalid_amount');
  });

  it('only available cash can be withdrawn', () => {
    const m = market({ fund: false });
    m.deposit('D', 100_000);
    m.ok(m.buy(5, 10_000, { account: 'D' })); // holds 50,100
    m.rejects({ type: 'withdraw', ts: 1, account: 'D', amount: 49_901 }, 'insufficient_funds');
    const events = m.ok({ type: 'withdraw', ts: 1, account: 'D', amount: 49_900 });
    expect(events).toEqual([
      { type: 'balance', account: 'D', cash: 50_100, reserved: 50_100, cause: 'withdraw', delta: -49_900 },
    ]);
    m.rejects({ type: 'withdraw', ts: 1, account: 'Z', amount: 1 }, 'unknown_account');
    m.rejects({ type: 'withdraw', ts: 1, account: 'D', amount: -1 }, 'invalid_amount');
  });

  it('open_account opens an empty account once, then changes nothing', () => {
    const m = market({ fund: false });
    expect(m.ok({ type: 'open_account', ts: 1, account: 'N' })).toEqual([]);
    expect(m.x.account('N')).toEqual({ account: 'N', cash: 0, reserved: 0 });
    m.ok({ type: 'transfer_shares', ts: 1, account: 'N', symbol: 'ACME', qty: 2, cost: 100 });
    m.ok({ type: 'open_account', ts: 1, account: 'N' });
    expect(m.held('N')).toEqual({ qty: 2, reserved: 0, cost: 100 });
    m.rejects({ type: 'open_account', ts: 1, account: '' }, 'unknown_account');
  });

  it('the fee account can withdraw what it collected', () => {
    const m = market();
    m.ok(m.sell(10, 10_000, { account: 'B' }));
    m.ok(m.buy(10, 10_000));
    expect(m.cash(FEES).cash).toBe(300);
    m.ok({ type: 'withdraw', ts: 1, account: FEES, amount: 300 });
  });
});

describe('share transfers and cost basis', () => {
  it('shares move in with their cost and out only when free, cost shrinking in proportion', () => {
    const m = market({ fund: false });
    m.deposit('D', 1);
    const events = m.ok({
      type: 'transfer_shares',
      ts: 1,
      account: 'D',
      symbol: 'ACME',
      qty: 3,
      cost: 1_000,
    });
    expect(events).toEqual([
      { type: 'position', account: 'D', symbol: 'ACME', qty: 3, reserved: 0, cost: 1_000 },
    ]);
    m.ok(m.sell(1, 10_000, { account: 'D' })); // holds one share
    m.rejects(
      { type: 'transfer_shares', ts: 1, account: 'D', symbol: 'ACME', qty: -3, cost: 0 },
      'insufficient_shares',
    );
    m.ok({ type: 'transfer_shares', ts: 1, account: 'D', symbol: 'ACME', qty: -1, cost: 0 });
    expect(m.held('D')).toEqual({ qty: 2, reserved: 1, cost: 667 }); // 1,000 − floor(1,000 / 3)
    m.rejects(
      { type: 'transfer_shares', ts: 1, account: 'Z', symbol: 'ACME', qty: 1, cost: 0 },
      'unknown_account',
    );
    m.rejects(
      { type: 'transfer_shares', ts: 1, account: 'D', symbol: 'NOPE', qty: 1, cost: 0 },
      'unknown_symbol',
    );
    m.rejects(
      { type: 'transfer_shares', ts: 1, account: 'D', symbol: 'ACME', qty: 0, cost: 0 },
      'invalid_quantity',
    );
    m.rejects(
      { type: 'transfer_shares', ts: 1, account: 'D', symbol: 'ACME', qty: 1, cost: -1 },
      'invalid_amount',
    );
  });

  it('a sale reduces cost by floor(cost × sold / held), to zero when flat', () => {
    const m = market({ fund: false });
    m.deposit('D', 1);
    m.shares('D', 3, 1_000);
    m.deposit('E', 1_000_000);
    m.ok(m.sell(1, 10_000, { account: 'D' }));
    m.ok(m.buy(1, 10_000, { account: 'E' }));
    expect(m.held('D')).toEqual({ qty: 2, reserved: 0, cost: 667 });
    m.ok(m.sell(2, 10_000, { account: 'D' }));
    const events = m.ok(m.buy(2, 10_000, { account: 'E' }));
    expect(ofType(events, 'position').find((p) => p.account === 'D')).toEqual({
      type: 'position',
      account: 'D',
      symbol: 'ACME',
      qty: 0,
      reserved: 0,
      cost: 0,
    });
    expect(m.x.position('D', 'ACME')).toBeUndefined(); // flat positions are dropped
    // E bought 3 at 10,000 with taker fees of 20 and 40
    expect(m.held('E')).toEqual({ qty: 3, reserved: 0, cost: 30_060 });
  });

  it('positions are listed per account, by symbol', () => {
    const m = market();
    m.ok({
      type: 'add_instrument',
      ts: 1,
      spec: { ...m.x.instrument('ACME')!.spec, symbol: 'ABC' },
    });
    m.shares('A', 5, 50, 'ABC');
    expect(m.x.positions('A').map((p) => p.symbol)).toEqual(['ABC', 'ACME']);
  });
});

describe('conservation', () => {
  it('trades move cash between accounts and the fee account without creating or destroying any', () => {
    const m = market();
    const total = () => m.x.exportState().accounts.reduce((sum, a) => sum + a.cash, 0);
    const before = total();
    m.ok(m.sell(7, 10_003, { account: 'B' }));
    m.ok(m.sell(5, 10_011, { account: 'C' }));
    m.ok(m.buy(11, 10_011));
    m.ok(m.order({ orderType: 'market', side: 'sell', qty: 3, account: 'B' }));
    expect(total()).toBe(before);
  });
});

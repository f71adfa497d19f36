/** The router over shard clients: where calls go, and an administration call resent after a failure part-way. */
import { describe, expect, it } from 'vitest';
import { matchingShardOf, riskShardOf, type ShardLayout } from '../../engine/shards/layout.ts';
import type { ExchangeStatus, InstrumentSpec, OrdersClient } from './client.ts';
import { OrdersApiError, rejection, unavailable } from './problems.ts';
import { mergeExchangeStatus, shardedOrdersClient } from './sharded-client.ts';

const LAYOUT: ShardLayout = { riskShards: 2, matchingShards: 2 };
const SPEC: InstrumentSpec = {
  symbol: 'ACME',
  tickSize: 1,
  lotSize: 1,
  minQty: 1,
  maxQty: 1000,
  priceBandBps: 0,
  collarBps: 1000,
  referencePrice: 100,
};

/** A shard's client that lists instruments once each (a second time: duplicate_symbol) and can be made to fail. */
function fakeShard(shard: number, calls: string[]) {
  const listed = new Set<string>();
  const state = { down: false, session: 'open' as ExchangeStatus['session'] };
  const client = {
    addInstrument: async (spec: InstrumentSpec) => {
      calls.push(`${shard}:add:${spec.symbol}`);
      if (state.down) throw unavailable('down');
      if (listed.has(spec.symbol)) throw rejection('duplicate_symbol');
      listed.add(spec.symbol);
      return { ...spec, halted: false, lastTradePrice: null };
    },
    setSession: async (session: ExchangeStatus['session']) => {
      calls.push(`${shard}:session`);
      if (state.down) throw unavailable('down');
      state.session = session;
      return { session, marketHalted: false, lastSeq: 1 };
    },
    balance: async (account: string) => {
      calls.push(`${shard}:balance:${account}`);
      return { account, cash: 0, reserved: 0, available: 0 };
    },
    depth: async (symbol: string) => {
      calls.push(`${shard}:depth:${symbol}`);
      return { symbol, bids: [], asks: [], seq: 0 };
    },
  };
  return { client: client as unknown as OrdersClient, state, listed };
}

describe('shardedOrdersClient', () => {
  it('sends account calls to the risk shard and symbol calls to the matching shard', async () => {
    const calls: string[] = [];
    const shards = [fakeShard(0, calls), fakeShard(1, calls)];
    const router = shardedOrdersClient(
      shards.map((s) => s.client),
      LAYOUT,
    );
    for (const account of ['a1', 'a2', 'a3', 'a4']) await router.balance(account);
    for (const symbol of ['ACME', 'BOLT', 'CORP']) await router.depth(symbol);
    expect(calls).toEqual([
      ...['a1', 'a2', 'a3', 'a4'].map((a) => `${riskShardOf(a, LAYOUT)}:balance:${a}`),
      ...['ACME', 'BOLT', 'CORP'].map((s) => `${matchingShardOf(s, LAYOUT)}:depth:${s}`),
    ]);
  });

  it('lists on every shard in order; after a failure part-way, the same call again finishes the job', async () => {
    const calls: string[] = [];
    const shards = [fakeShard(0, calls), fakeShard(1, calls)];
    const router = shardedOrdersClient(
      shards.map((s) => s.client),
      LAYOUT,
    );
    shards[1]!.state.down = true;
    await expect(router.addInstrument(SPEC)).rejects.toMatchObject({ problem: { status: 503 } });
    // shard 0 kept it, shard 1 never got it
    expect(shards.map((s) => s.listed.has('ACME'))).toEqual([true, false]);
    shards[1]!.state.down = false;
    expect(await router.addInstrument(SPEC)).toMatchObject({ symbol: 'ACME' });
    expect(shards.map((s) => s.listed.has('ACME'))).toEqual([true, true]);
    // listed everywhere already: the service's duplicate refusal
    const err = await router.addInstrument(SPEC).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OrdersApiError);
    expect((err as OrdersApiError).problem).toMatchObject({ status: 422, reason: 'duplicate_symbol' });
    expect(calls.filter((c) => c.includes(':add:'))).toEqual([
      '0:add:ACME',
      '1:add:ACME',
      '0:add:ACME',
      '1:add:ACME',
      '0:add:ACME',
      '1:add:ACME',
    ]);
  });

  it('a session set part-way reads as the most restrictive one until it is sent again', async () => {
    const calls: string[] = [];
    const shards = [fakeShard(0, calls), fakeShard(1, calls)];
    const router = shardedOrdersClient(
      shards.map((s) => s.client),
      LAYOUT,
    );
    shards[1]!.state.down = true;
    await expect(router.setSession('closed')).rejects.toBeInstanceOf(OrdersApiError);
    const statuses = shards.map((s) => ({ session: s.state.session, marketHalted: false, lastSeq: 3 }));
    expect(mergeExchangeStatus(statuses)).toEqual({ session: 'closed', marketHalted: false, lastSeq: 6 });
    shards[1]!.state.down = false;
    expect(await router.setSession('closed')).toMatchObject({ session: 'closed' });
    expect(shards.map((s) => s.state.session)).toEqual(['closed', 'closed']);
  });

  it('refuses a layout that does not match its clients', () => {
    expect(() => shardedOrdersClient([fakeShard(0, []).client], LAYOUT)).toThrow(/1 clients for 2/);
  });
});

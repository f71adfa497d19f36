/**
 * A shard node restored from its snapshot behaves as the node it was taken of: after the same
 * further inputs (commands, late, reordered and repeated messages), both capture the same state.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NewOrderCommand } from '../../domain/exchange.ts';
import { CONFIG, spec } from '../test-kit.ts';
import { orderIdAt, riskShardOf, type ShardLayout } from './layout.ts';
import { applyInput, createShardNode, type ShardInput, type ShardMessage, type ShardNode } from './node.ts';
import { captureNode, restoreNode } from './snapshot.ts';

const LAYOUT: ShardLayout = { riskShards: 2, matchingShards: 2 };
const ACCOUNTS = ['a0', 'a1', 'a2', 'a3'];
const SYMBOLS = ['ACME', 'BOLT'];

type Pick = {
  order: boolean;
  a: number;
  s: number;
  buy: boolean;
  qty: number;
  off: number;
  k: number;
  again: boolean;
};

/** Runs the picks on two nodes; returns every input each node applied, in order. */
function run(picks: Pick[]): [number, ShardInput][] {
  const nodes = [0, 1].map((k) => createShardNode(CONFIG, k, LAYOUT));
  const applied: [number, ShardInput][] = [];
  const net: ShardMessage[] = [];
  const counters = [0, 0];
  const feed = (k: number, input: ShardInput) => {
    applied.push([k, structuredClone(input)]);
    net.push(...applyInput(nodes[k]!, input).messages);
  };
  for (const k of [0, 1]) {
    for (const symbol of SYMBOLS)
      feed(k, { kind: 'admin', command: { type: 'add_instrument', ts: 0, spec: spec({ symbol }) } });
  }
  for (const account of ACCOUNTS) {
    const k = riskShardOf(account, LAYOUT);
    feed(k, { kind: 'command', command: { type: 'deposit', ts: 1, account, amount: 10_000_000 } });
    for (const symbol of SYMBOLS) {
      feed(k, {
        kind: 'command',
        command: { type: 'transfer_shares', ts: 1, account, symbol, qty: 500, cost: 0 },
      });
    }
  }
  let ts = 2;
  for (const p of picks) {
    if (p.order || net.length === 0) {
      const account = ACCOUNTS[p.a]!;
      const k = riskShardOf(account, LAYOUT);
      counters[k]! += 1;
      const c: NewOrderCommand = {
        type: 'new_order',
        ts: ts++,
        id: orderIdAt(counters[k]!, k, LAYOUT),
        account,
        symbol: SYMBOLS[p.s]!,
        side: p.buy ? 'buy' : 'sell',
        orderType: 'limit',
        tif: 'gtc',
        qty: p.qty,
        price: 10_000 + p.off,
      };
      feed(k, { kind: 'command', command: c, key: `k${counters[k]}` });
    } else {
      const i = p.k % net.length;
      const m = net[i]!;
      if (!p.again) net.splice(i, 1);
      feed(m.env.to, m);
    }
  }
  while (net.length > 0) {
    const m = net.shift()!;
    feed(m.env.to, m);
  }
  return applied;
}

function replay(inputs: [number, ShardInput][], nodes: ShardNode[]): void {
  for (const [k, input] of inputs) applyInput(nodes[k]!, structuredClone(input));
}

const pickGen: fc.Arbitrary<Pick> = fc.record({
  order: fc.boolean(),
  a: fc.nat(3),
  s: fc.nat(1),
  buy: fc.boolean(),
  qty: fc.integer({ min: 1, max: 100 }),
  off: fc.integer({ min: -50, max: 50 }),
  k: fc.nat(1000),
  again: fc.boolean(),
});

describe('shard node snapshots', () => {
  it('restore(capture(node)) continues exactly as the node', () => {
    let trades = 0;
    fc.assert(
      fc.property(
        fc.array(pickGen, { minLength: 30, maxLength: 150, size: 'max' }),
        fc.nat(),
        (picks, at) => {
          const inputs = run(picks);
          const split = at % inputs.length;
          const original = [0, 1].map((k) => createShardNode(CONFIG, k, LAYOUT));
          replay(inputs.slice(0, split), original);
          // the snapshot goes through JSON, as it does to the database
          const restored = original.map((n) =>
            restoreNode(CONFIG, JSON.parse(JSON.stringify(captureNode(n))), n.shard),
          );
          replay(inputs.slice(split), original);
          replay(inputs.slice(split), restored);
          for (const k of [0, 1]) expect(captureNode(restored[k]!)).toEqual(captureNode(original[k]!));
          trades += original.reduce((sum, n) => sum + n.matching.exchange.exportState().nextTradeId - 1, 0);
        },
      ),
      { numRuns: 150 },
    );
    expect(trades).toBeGreaterThan(300);
  });

  it('refuses another shard’s snapshot and an unknown format', () => {
    const node = createShardNode(CONFIG, 0, LAYOUT);
    expect(() => restoreNode(CONFIG, captureNode(node), 1)).toThrow(/shard 0, not 1/);
    expect(() => restoreNode(CONFIG, { ...captureNode(node), format: 99 }, 0)).toThrow(/format 99/);
  });
});

/**
 * One OrdersClient over the orders shard nodes (issue 11; docs/design.md "Orders shards"):
 * `shards[k]` is shard k's client (usually httpOrdersClient over a balancer of that shard's leader
 * and standbys, whose 503 not-leader moves it to the leader).
 *
 *   account calls (orders, cash, shares, their reads)   shards[riskShardOf(account)]
 *   symbol calls (depth, the public tape)                shards[matchingShardOf(symbol)]
 *   a symbol's halt                                      its matching shard (the only one with its book)
 *   listing, a market-wide halt, the session             every shard, in shard order
 *   instruments, exchange status, storage                every shard, merged
 *
 * An order's id tells its risk shard too (layout.ts orderIdAt), but every order call names its
 * account, which is what routes it: an id of another account's order is then 404 at the account's
 * shard, as at the single service.
 */
import { matchingShardOf, riskShardOf, type ShardLayout } from '../../engine/shards/layout.ts';
import type { OrdersClient } from './client.ts';
import type { ExchangeStatus, Instrument, SessionState, StorageStatus } from './model.ts';
import { OrdersApiError } from './problems.ts';

const SESSION_ORDER: readonly SessionState[] = ['closed', 'pre_open', 'open'];

/**
 * The exchange as the shards report it. They agree unless an administration call stopped part-way:
 * then the most restrictive session (an order may reach a shard that is not open) and a market
 * halted if any shard is. `lastSeq` is the sum of the shards' seqs: it moves whenever any shard commits.
 */
export function mergeExchangeStatus(all: readonly ExchangeStatus[]): ExchangeStatus {
  const session = all.reduce<SessionState>(
    (worst, s) => (SESSION_ORDER.indexOf(s.session) < SESSION_ORDER.indexOf(worst) ? s.session : worst),
    'open',
  );
  return {
    session,
    marketHalted: all.some((s) => s.marketHalted),
    lastSeq: all.reduce((sum, s) => sum + s.lastSeq, 0),
  };
}

/**
 * Storage over shards: rows, counts and seqs add up; the tables are shared by the shard nodes of one
 * database, so their bytes are the largest any shard reports (not a sum); the oldest snapshot and
 * backup are the ones that matter for recovery, so those are shown.
 */
export function mergeStorageStatus(all: readonly StorageStatus[]): StorageStatus {
  const sum = (f: (s: StorageStatus) => number) => all.reduce((n, s) => n + f(s), 0);
  const max = (f: (s: StorageStatus) => number) => all.reduce((n, s) => Math.max(n, f(s)), 0);
  const firsts = all.map((s) => s.journal.firstSeq).filter((n): n is number => n !== null);
  const snapshotted = all.filter((s) => s.snapshots.lastTakenAt !== null);
  const oldestSnapshot = snapshotted.sort((a, b) =>
    a.snapshots.lastTakenAt! < b.snapshots.lastTakenAt! ? -1 : 1,
  )[0]?.snapshots;
  const backups = all.map((s) => s.lastBackup);
  const oldestBackup = backups.includes(null)
    ? null
    : [...(backups as NonNullable<StorageStatus['lastBackup']>[])].sort((a, b) =>
        a.takenAt < b.takenAt ? -1 : 1,
      )[0]!;
  return {
    journal: {
      bytes: max((s) => s.journal.bytes),
      firstSeq: firsts.length === 0 ? null : Math.min(...firsts),
      rows: sum((s) => s.journal.rows),
      archivedSeq: sum((s) => s.journal.archivedSeq),
      archiveDir: all[0]?.journal.archiveDir ?? '',
    },
    snapshots: {
      bytes: max((s) => s.snapshots.bytes),
      count: sum((s) => s.snapshots.count),
      lastSeq: snapshotted.length === all.length ? (oldestSnapshot?.lastSeq ?? null) : null,
      lastTakenAt: snapshotted.length === all.length ? (oldestSnapshot?.lastTakenAt ?? null) : null,
      lastAgeMs: snapshotted.length === all.length ? (oldestSnapshot?.lastAgeMs ?? null) : null,
    },
    seqs: {
      committed: sum((s) => s.seqs.committed),
      projected: sum((s) => s.seqs.projected),
      published: sum((s) => s.seqs.published),
    },
    lag: { projection: sum((s) => s.lag.projection), outbox: sum((s) => s.lag.outbox) },
    lastBackup: oldestBackup,
  };
}

const isDuplicateSymbol = (err: unknown): boolean =>
  err instanceof OrdersApiError && err.problem.reason === 'duplicate_symbol';

export function shardedOrdersClient(shards: readonly OrdersClient[], layout: ShardLayout): OrdersClient {
  if (shards.length !== layout.riskShards || layout.riskShards !== layout.matchingShards) {
    throw new Error(
      `sharded orders client: ${shards.length} clients for ${layout.riskShards} risk and ${layout.matchingShards} matching shards`,
    );
  }
  const byAccount = (account: string) => shards[riskShardOf(account, layout)]!;
  const bySymbol = (symbol: string) => shards[matchingShardOf(symbol, layout)]!;
  const all = <T>(call: (c: OrdersClient) => Promise<T>) => Promise.all(shards.map(call));

  /**
   * Administration goes to every shard, one after another in shard order. If one fails, the call
   * fails with its problem and the shards after it have not been told; the ones before keep what
   * they applied (there is no undo across shards). Sending the same call again is safe and
   * finishes the job: a session or a market halt sets a state (applying it twice changes nothing),
   * and a listing already present on a shard (duplicate_symbol there) counts as done there.
   */
  async function everyShard<T>(call: (c: OrdersClient) => Promise<T>): Promise<T[]> {
    const out: T[] = [];
    for (const c of shards) out.push(await call(c));
    return out;
  }

  return {
    submitOrder: (account, request) => byAccount(account).submitOrder(account, request),
    cancelOrder: (account, id) => byAccount(account).cancelOrder(account, id),
    replaceOrder: (account, id, request) => byAccount(account).replaceOrder(account, id, request),
    getOrder: (account, id) => byAccount(account).getOrder(account, id),
    getOrderByClientId: (account, id) => byAccount(account).getOrderByClientId(account, id),
    listOrders: (account, query) => byAccount(account).listOrders(account, query),
    accountTrades: (account, query) => byAccount(account).accountTrades(account, query),
    balance: (account) => byAccount(account).balance(account),
    positions: (account) => byAccount(account).positions(account),
    cashMovements: (account, query) => byAccount(account).cashMovements(account, query),
    deposit: (account, request) => byAccount(account).deposit(account, request),
    withdraw: (account, request) => byAccount(account).withdraw(account, request),
    transferShares: (account, request) => byAccount(account).transferShares(account, request),

    symbolTrades: (symbol, query) => bySymbol(symbol).symbolTrades(symbol, query),
    depth: (symbol, levels) => bySymbol(symbol).depth(symbol, levels),

    /** Each shard lists the instruments it books: together, every instrument once, by symbol. */
    instruments: async (): Promise<Instrument[]> =>
      (await all((c) => c.instruments()))
        .flat()
        .sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0)),
    exchangeStatus: async () => mergeExchangeStatus(await all((c) => c.exchangeStatus())),
    storageStatus: async () => mergeStorageStatus(await all((c) => c.storageStatus())),

    addInstrument: async (spec) => {
      // every risk shard lists it (to size holds); its matching shard books it
      let listed: Instrument | null = null;
      let duplicate: unknown = null;
      await everyShard(async (c) => {
        try {
          const one = await c.addInstrument(spec);
          listed ??= one;
        } catch (err) {
          if (!isDuplicateSymbol(err)) throw err;
          duplicate ??= err;
        }
      });
      // listed nowhere new: it was there before, as the single service says
      if (listed === null) throw duplicate;
      return listed;
    },
    halt: async (request) => {
      if (request.symbol !== null) {
        await bySymbol(request.symbol).halt(request);
        return mergeExchangeStatus(await all((c) => c.exchangeStatus()));
      }
      return mergeExchangeStatus(await everyShard((c) => c.halt(request)));
    },
    setSession: async (state) => mergeExchangeStatus(await everyShard((c) => c.setSession(state))),
  };
}

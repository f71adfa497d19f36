/**
 * Bourse's exchange core: a pure, deterministic, single-threaded matching engine with accounts
 * and risk. Commands in, events out; no I/O, no clock (every command carries its `ts`), no
 * randomness, integers only (cents, shares). The same commands always give the same events and
 * the same `exportState()`.
 *
 * BOOK. One limit order book per symbol, price-time priority. Each price level is an intrusive
 * doubly-linked FIFO (O(1) cancel); levels sit in a chunked sorted array (O(log n) however deep,
 * best level last; emptied levels stay listed for reuse and are compacted in bulk, so moving orders
 * among known prices is O(1)) and in a Map by price; open orders are found by id in an
 * open-addressing table. Trades execute at the resting order's price. No operation depends on the
 * depth of the book beyond a logarithm.
 *
 * ORDER TYPES. market, limit, stop, stop_limit. Stops trigger on the last trade price (before the
 * first trade: the instrument's reference price): a buy stop when last >= stopPrice, a sell stop
 * when last <= stopPrice. They are checked after every trade; triggered stops are queued in trigger
 * order (stop price, then time) and activated once the current taker is done, each as a market
 * order (stop) or limit order (stop_limit) that matches at once; their own trades may trigger
 * more (cascade). A `triggered` event precedes its trades. A stop whose condition already holds
 * on entry (or after a replace) triggers at once.
 *
 * TRAILING STOPS (trailing.ts). A stop whose stop price follows the high-water mark (hwm) of trade
 * prices since it started: sell at hwm − trail, buy at hwm + trail, the trail in ticks or basis
 * points of the hwm; it triggers as a stop (market with collar). An optional activation price holds
 * it back (no tracking, stopPrice 0) until the last price reaches it. A replace may change the trail.
 *
 * ORDER CLASSES (classes.ts). bracket (entry + take-profit + stop-loss, the stop-loss a stop,
 * stop-limit or trailing stop), oto (entry + one exit) and oco (limit + stop-loss). Legs take the
 * next ids; a bracket's / oto's exits are `held` until the entry is done (filled, or cancelled after
 * a partial fill: sized to the filled quantity; cancelled before any fill: cancelled, reason
 * `parent`), then `released`. Legs whose entry is done while their symbol cannot trade (halted,
 * symbol or market, or the session not `open`: pre-open forbids crossing) stay `held` with no entry
 * (releasable; sized and holding as released legs, replaceable in pre-open without working, day
 * ones expire at the close) and are `released` when the halt is lifted or the session opens, by
 * id. One-cancels-other on the first fill and on a cancel (reason `oco`); a pair holds once (the
 * larger need), a held sell leg holds the shares bought so far.
 *
 * TIME IN FORCE. day, gtc, ioc, fok. Market orders and triggered stops never rest (IOC). FOK fills
 * completely at once or is rejected `fok_not_fillable` with nothing changed; a market FOK is
 * all-or-nothing within its collar; a FOK stop decides at trigger time (if it cannot fill it is
 * cancelled whole, with the reason an IOC of its type would get). Post-only: an order that would
 * trade on entry (or on a replace that loses priority) is rejected `post_only_would_take`; a stop
 * that triggers later is not subject to it.
 *
 * MARKET PROTECTION. Collar = reference ± collarBps: buy limit = ref × (10000 + collarBps) / 10000
 * rounded down to the tick, sell limit = ref × (10000 − collarBps) / 10000 rounded up. A market
 * order trades only inside its collar; its remainder is cancelled `collar` if the book still had
 * liquidity beyond it, else `no_liquidity`. Reference = last trade price, else spec.referencePrice.
 * A buy stop reserves at the collar of its stop price and, at trigger, trades up to the lower of
 * that and the collar of the moment; a sell stop uses the collar at trigger.
 *
 * INSTRUMENT RULES. Prices must be on the tick grid (`off_tick`, never rounded), quantities on the
 * lot (`off_lot`) and within min/max; a limit (or stop-limit) price further than priceBandBps from
 * the reference is `outside_price_band` (0 disables; a replace re-checks only a changed price).
 * Halts, per symbol or market-wide, reject new orders and replaces (`symbol_halted`,
 * `market_halted`); cancels always work. Sessions: `open` (initial) is normal; `pre_open` accepts
 * cancels and day/gtc limit orders or replaces that would not cross (anything else
 * `not_allowed_pre_open`); `closed` rejects new orders and replaces (`market_closed`). Moving to
 * `closed` expires every open DAY order, including untriggered day stops, in acceptance order.
 *
 * SELF-TRADE PREVENTION (config default, per-order override; the taker's mode applies):
 * cancel_resting (cancel the resting own order, reason self_trade, and go on matching),
 * cancel_incoming (cancel the taker's remainder), cancel_both, allow.
 *
 * CANCEL/REPLACE. `qty` is the new total quantity; qty <= filledQty, a malformed value, or a field
 * that does not apply to the order is `invalid_replace`. A pure size decrease (or no change) at the
 * same prices keeps priority (`replaced`, keptPriority true); a price/stop change or a size increase
 * loses it: the order re-enters at the back and trades if it now crosses (post-only re-checked).
 * Replacing an untriggered stop updates stopPrice / price (and may trigger it). Risk is re-checked
 * on the difference in holdings; a failed replace leaves the order unchanged.
 *
 * ACCOUNTS AND RISK. Cash accounts: no margin, no shorting. An account is created by its first
 * deposit; orders from unknown accounts (and from the fee account, which does not trade) are
 * `unknown_account`. A buy holds leaves × P + fee(leaves × P, max(maker, taker)) where P is its
 * limit price, a market buy's collar, or an untriggered buy stop's collar(stopPrice) (see risk.ts);
 * a sell holds its leaves in shares. Holdings are recomputed from leaves after every change, so an
 * account's reserved amount is exactly what its open orders need after every command. Available =
 * cash − reserved; short of it: `insufficient_funds` / `insufficient_shares`. Fees:
 * floor(notional × bps / 10000) per fill, rounded down to the cent (superadditive, so a reservation
 * covers the fees of any split into fills); maker / taker rates from the instrument or the config;
 * credited to config.feeAccount, so total cash over all accounts is conserved by trades. The buyer
 * pays price × qty + fee; the seller receives price × qty − fee. Positions keep qty, reserved and
 * cost basis (buy fees included); a sale or transfer out reduces cost by floor(cost × qty / held),
 * to 0 when flat. Withdrawals can take only available cash. transfer_shares moves shares in (with
 * cost) or free shares out.
 *
 * IDS. Order ids are assigned by the caller and must increase (a smaller or equal id than one
 * already accepted is `duplicate_order_id`): unique forever in O(1) memory. Rejected orders do not
 * consume ids. The engine keeps open orders only; `order(id)` answers for open orders.
 *
 * EVENTS, per command, in order: `rejected` (alone: a rejected command changes nothing), or
 * accepted / replaced / canceled / triggered / released, then per trade: `trade` (tradeId from nextTradeId),
 * `fill` of the maker, `fill` of the taker (order snapshots after the fill), `trailed` per trailing
 * stop the trade moved, interleaved with any
 * self-trade cancels and remainder cancels as they happen; `expired` on close; then, aggregated once
 * per command: `book_changed` per touched level (final qty and order count; qty 0 = gone),
 * `balance` per account whose cash or reserved changed, `position` per changed position, each with
 * the final totals (cause deposit / withdraw / trade / reserve; delta = net cash change).
 */
export type {
  AccountView,
  CreateExchange,
  Depth,
  DepthLevel,
  EngineSnapshot,
  Exchange,
  ExchangeState,
  InstrumentState,
  PositionView,
  Side,
} from './api.ts';
export { createExchange } from './exchange.ts';
export { SNAPSHOT_FORMAT, SnapshotError } from './snapshot.ts';

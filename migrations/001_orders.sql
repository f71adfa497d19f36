-- The orders service's tables. The orders service is their only writer (DESIGN.md): every row
-- here is written by the sequencer's group commit, in the same transaction as the journal entry
-- of the command that caused it, so the tables are always exactly "the journal up to last_seq".
--
-- Units: prices, cash and fees in integer cents, quantities in whole shares (bigint, never
-- numeric or float). Times are timestamptz with millisecond values (the engine's epoch ms).
-- Plain SQL that runs unchanged on PostgreSQL 15+ and PGlite.

-- Append-only, gap-free, numbered from 1: every command that reached the engine, accepted or
-- rejected. Replaying it into an empty engine reproduces every other table below.
CREATE TABLE journal (
  seq bigint PRIMARY KEY,
  ts timestamptz NOT NULL,
  -- the engine command exactly as applied (ids and ts assigned by the sequencer), plus a new
  -- order's clientOrderId
  command jsonb NOT NULL,
  -- idempotency key of a keyed deposit, withdrawal or share transfer (c/<account>/<key>,
  -- s/<account>/<key>); a new order carries its clientOrderId inside `command` instead, which
  -- keeps this index off the hot path (orders.client_order_id has its own unique index)
  idempotency_key text,
  -- the engine's verdict when the command was first applied; replay must reproduce it, which
  -- catches an engine change that would silently rewrite history
  reject_reason text
);
CREATE UNIQUE INDEX journal_idempotency_key ON journal (idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE orders (
  id bigint PRIMARY KEY,
  account text NOT NULL,
  client_order_id text,
  symbol text NOT NULL,
  side text NOT NULL CHECK (side IN ('buy', 'sell')),
  type text NOT NULL CHECK (type IN ('market', 'limit', 'stop', 'stop_limit')),
  tif text NOT NULL CHECK (tif IN ('day', 'gtc', 'ioc', 'fok')),
  qty bigint NOT NULL CHECK (qty >= 0),
  filled_qty bigint NOT NULL CHECK (filled_qty >= 0 AND filled_qty <= qty),
  -- limit price (0 for market and stop orders), trigger price (0 when none)
  price bigint NOT NULL,
  stop_price bigint NOT NULL,
  post_only boolean NOT NULL,
  status text NOT NULL CHECK (status IN ('new', 'partially_filled', 'filled', 'canceled', 'expired', 'rejected')),
  triggered boolean NOT NULL,
  -- sum of fill price × qty, for the average fill price
  filled_notional bigint NOT NULL,
  fees bigint NOT NULL,
  reject_reason text,
  cancel_reason text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  -- journal entries that created and last changed the row
  created_seq bigint NOT NULL,
  updated_seq bigint NOT NULL
);
-- Idempotency backstop: a second order with the same client id cannot exist even if the
-- in-memory map were wrong. NULL client ids do not collide.
CREATE UNIQUE INDEX orders_account_client_order_id ON orders (account, client_order_id);
CREATE INDEX orders_account_id ON orders (account, id);
CREATE INDEX orders_open_by_account ON orders (account, id) WHERE status IN ('new', 'partially_filled');

-- Executions. One row per match; each side's view (fee, maker/taker) is derived from it.
CREATE TABLE trades (
  id bigint PRIMARY KEY,
  seq bigint NOT NULL,
  ts timestamptz NOT NULL,
  symbol text NOT NULL,
  price bigint NOT NULL CHECK (price > 0),
  qty bigint NOT NULL CHECK (qty > 0),
  buy_order_id bigint NOT NULL,
  sell_order_id bigint NOT NULL,
  buy_account text NOT NULL,
  sell_account text NOT NULL,
  aggressor text NOT NULL CHECK (aggressor IN ('buy', 'sell')),
  buy_fee bigint NOT NULL,
  sell_fee bigint NOT NULL
);
CREATE INDEX trades_symbol_ts ON trades (symbol, ts, id);
CREATE INDEX trades_buy_account ON trades (buy_account, id);
CREATE INDEX trades_sell_account ON trades (sell_account, id);

-- Balances: the CHECKs are a second line of defence; a violated invariant fails the commit and
-- the sequencer stops rather than persisting a negative balance.
CREATE TABLE accounts (
  account text PRIMARY KEY,
  cash bigint NOT NULL CHECK (cash >= 0),
  reserved bigint NOT NULL CHECK (reserved >= 0 AND reserved <= cash),
  updated_seq bigint NOT NULL
);

CREATE TABLE positions (
  account text NOT NULL,
  symbol text NOT NULL,
  qty bigint NOT NULL CHECK (qty >= 0),
  reserved bigint NOT NULL CHECK (reserved >= 0 AND reserved <= qty),
  -- cost basis of the shares held; average cost = cost / qty
  cost bigint NOT NULL,
  updated_seq bigint NOT NULL,
  PRIMARY KEY (account, symbol)
);

-- Accepted deposits and withdrawals, for statements (rejected ones live only in the journal).
CREATE TABLE cash_movements (
  seq bigint PRIMARY KEY,
  ts timestamptz NOT NULL,
  account text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('deposit', 'withdraw')),
  amount bigint NOT NULL CHECK (amount > 0),
  idempotency_key text
);
CREATE INDEX cash_movements_account ON cash_movements (account, seq);

-- Accepted share transfers in (qty > 0) and out (qty < 0).
CREATE TABLE share_movements (
  seq bigint PRIMARY KEY,
  ts timestamptz NOT NULL,
  account text NOT NULL,
  symbol text NOT NULL,
  qty bigint NOT NULL CHECK (qty <> 0),
  cost bigint NOT NULL,
  idempotency_key text
);
CREATE INDEX share_movements_account ON share_movements (account, seq);

CREATE TABLE instruments (
  symbol text PRIMARY KEY,
  tick_size bigint NOT NULL,
  lot_size bigint NOT NULL,
  min_qty bigint NOT NULL,
  max_qty bigint NOT NULL,
  price_band_bps integer NOT NULL,
  collar_bps integer NOT NULL,
  -- the spec's reference price (previous close); the live one is last_trade_price when set
  reference_price bigint NOT NULL,
  maker_bps integer,
  taker_bps integer,
  halted boolean NOT NULL,
  last_trade_price bigint,
  updated_seq bigint NOT NULL
);

-- Exchange-wide state, one row. last_seq is the journal entry the derived tables reflect.
CREATE TABLE exchange_state (
  id integer PRIMARY KEY CHECK (id = 1),
  session text NOT NULL CHECK (session IN ('pre_open', 'open', 'closed')),
  market_halted boolean NOT NULL,
  next_trade_id bigint NOT NULL,
  last_seq bigint NOT NULL
);

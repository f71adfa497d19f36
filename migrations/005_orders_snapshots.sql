-- Journal-first commit (docs/design.md, "Orders: commit, journal, snapshots, recovery").
--
-- The acknowledgement waits for the journal row only; the tables of 001 (orders, trades,
-- accounts, positions, movements, instruments, exchange_state) are projected from the committed
-- journal afterwards, in their own transactions. exchange_state.last_seq is now the projection
-- watermark: those tables reflect exactly the journal up to it.

-- How far the bus has been sent the events of the journal (the outbox watermark): on start, the
-- events of the entries after it are published again (consumers deduplicate by seq).
ALTER TABLE exchange_state ADD COLUMN published_seq bigint NOT NULL DEFAULT 0;

-- Engine snapshots: the whole exchange state after journal entry `seq`, so that recovery is the
-- last snapshot plus the journal after it. A row is written in one transaction once the entry
-- `seq` is committed and projected, so a snapshot being written when the process dies is simply
-- absent. `state` is gzip'd JSON (src/engine/snapshot.ts's EngineSnapshot plus the sequencer's
-- counters), `sha256` its digest, checked before use.
CREATE TABLE orders_snapshots (
  seq bigint PRIMARY KEY,
  taken_at timestamptz NOT NULL,
  format integer NOT NULL,
  last_order_id bigint NOT NULL,
  last_ts bigint NOT NULL,
  bytes integer NOT NULL,
  sha256 text NOT NULL,
  state bytea NOT NULL
);

-- Idempotency keys are kept for a window (BOURSE_IDEMPOTENCY_WINDOW_MS, 24 h by default): a
-- client order id or an Idempotency-Key may be used again once its window is over, so the two
-- unique indexes that enforced "forever" become plain ones (lookups stay indexed).
DROP INDEX orders_account_client_order_id;
CREATE INDEX orders_account_client_order_id ON orders (account, client_order_id, id);
DROP INDEX journal_idempotency_key;
CREATE INDEX journal_idempotency_key ON journal (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Snapshots of orders shard nodes (issue 11; docs/design.md "Orders shards"): a node's whole state
-- after journal entry `seq` (src/engine/shards/snapshot.ts, plus its client-order-id window), so a
-- node that starts cold reads the newest one and replays only the journal after it. A snapshot is
-- used only once the outbox has sent everything up to its seq (published_seq >= seq): the messages
-- of older entries are not in it. The newest two are kept.

CREATE TABLE shard_snapshots (
  shard integer NOT NULL CHECK (shard >= 0),
  seq bigint NOT NULL CHECK (seq > 0),
  snapshot jsonb NOT NULL,
  taken_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (shard, seq)
);

-- Orders across shards (issue 11; docs/design.md "Orders shards"): each shard node journals its
-- inputs in order — clients' commands, administration, and the messages other shards sent it —
-- which is all it needs to rebuild its state (src/engine/shards/node.ts). The messages it sends
-- are derived from the journal, so `published_seq` records how far they have been handed to the
-- bus (an outbox): a new leader sends again what lies beyond it, and receivers drop repeats.
-- Commits are fenced by orders_leader (migration 010), whose shard is the same number.

CREATE TABLE shard_journal (
  shard integer NOT NULL CHECK (shard >= 0),
  seq bigint NOT NULL CHECK (seq > 0),
  input jsonb NOT NULL,
  PRIMARY KEY (shard, seq)
);

CREATE TABLE shard_outbox (
  shard integer PRIMARY KEY CHECK (shard >= 0),
  published_seq bigint NOT NULL CHECK (published_seq >= 0)
);

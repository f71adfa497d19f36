-- Orders shard nodes write the orders service's read tables (issue 11; docs/design.md "Orders
-- shards"): orders, trades, accounts, positions, cash and share movements and instruments, projected
-- from each node's journal after its commit. `projected_seq` is how far a shard's journal is in
-- those tables, next to how far its outbox was sent: a node that takes over or restarts projects
-- again from it (every write is an upsert that keeps the newer row, so a range projected twice is
-- harmless).

ALTER TABLE shard_outbox ADD COLUMN projected_seq bigint NOT NULL DEFAULT 0 CHECK (projected_seq >= 0);

-- Once-per-cluster work (issue 11): who leads it. Work that must run once in a cluster, not once
-- per instance (market data's simulated feeds and bar publication), is done by the holder of a
-- session-level advisory lock of its own (src/platform/db/lease.ts); on taking the lock the
-- holder increments `epoch` here, so operators (and /v1/admin/status) see who leads since when,
-- and how many times it changed hands. name: the kind of work ('market-data').

CREATE TABLE cluster_leaders (
  name text PRIMARY KEY,
  epoch bigint NOT NULL CHECK (epoch > 0),
  holder text NOT NULL,
  since timestamptz NOT NULL
);

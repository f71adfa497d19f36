-- One writer per orders shard (issue 11): the fencing record of each shard's leadership.
--
-- The leader holds a session-level advisory lock (key: ORDERS_LEADER_LOCK, shard) on a dedicated
-- connection; on taking it, it increments `epoch` here. Every journal commit checks, in the same
-- statement, that the shard's epoch is still its own (reading this row FOR SHARE, so a takeover's
-- increment and an old leader's commit are ordered): a paused old leader cannot commit after a
-- takeover. holder: who took it (host/pid), since: when.

CREATE TABLE orders_leader (
  shard integer PRIMARY KEY CHECK (shard >= 0),
  epoch bigint NOT NULL CHECK (epoch > 0),
  holder text NOT NULL,
  since timestamptz NOT NULL
);

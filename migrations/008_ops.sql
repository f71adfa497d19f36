-- Operations (README "Operations"): what `bourse backup` took, so that the operator status
-- (GET /v1/admin/status) can say when the last backup was made. Numbered 008, leaving 007 to the
-- brokerage invites of another branch.
CREATE TABLE ops_backups (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  taken_at timestamptz NOT NULL,
  -- the orders journal's last seq inside the backup (its consistent point)
  journal_seq bigint NOT NULL,
  bytes bigint NOT NULL,
  -- where it was written, as given to `bourse backup`
  file text NOT NULL
);

-- How far the journal was archived: entries with seq <= archived_seq were moved
-- to compressed segment files (BOURSE_ARCHIVE_DIR) and deleted from the journal table.
ALTER TABLE exchange_state ADD COLUMN archived_seq bigint NOT NULL DEFAULT 0;

-- Journal retention for orders shard nodes (issue 11; docs/design.md "Retention, backup and
-- upgrades"): a shard's journal entries that its oldest kept snapshot covers, that were published
-- and projected, and that `BOURSE_JOURNAL_RETAIN` newer ones follow, move to gzip'd segment files
-- (shard-<k>-<from>-<to>.jsonl.gz in BOURSE_ARCHIVE_DIR) and leave shard_journal.
-- `archived_seq` is how far: every entry up to it is in the archive, none in the table.

ALTER TABLE shard_outbox ADD COLUMN archived_seq bigint NOT NULL DEFAULT 0 CHECK (archived_seq >= 0);

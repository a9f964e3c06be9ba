-- The inventory sync from WSUS servers: what a WSUS server says of each of
-- its computers, the sync cursor per server, and hosts gone from WSUS.
-- Times are INTEGER unix milliseconds (UTC).

ALTER TABLE hosts ADD COLUMN wsus_server      TEXT NOT NULL DEFAULT ''; -- the WSUS server that last listed the host
ALTER TABLE hosts ADD COLUMN wsus_computer_id TEXT NOT NULL DEFAULT ''; -- its computer target GUID there
-- GetSummariesPerComputerTarget's counts at the last sync; NULL before one.
ALTER TABLE hosts ADD COLUMN wsus_failed         INTEGER;
ALTER TABLE hosts ADD COLUMN wsus_needed         INTEGER;
ALTER TABLE hosts ADD COLUMN wsus_pending_reboot INTEGER;
ALTER TABLE hosts ADD COLUMN wsus_unknown        INTEGER;
ALTER TABLE hosts ADD COLUMN wsus_seen_at        INTEGER; -- the start of the last sync that listed it
-- Set when a full reconcile no longer finds the host in its WSUS server:
-- kept with its history and runs, hidden from triage. A sync that lists
-- it again clears it.
ALTER TABLE hosts ADD COLUMN gone_at INTEGER;

-- A full reconcile finds the hosts it did not see through this index.
CREATE INDEX hosts_wsus_seen ON hosts (wsus_server, wsus_seen_at) WHERE wsus_server <> '';

-- Triage reads failing hosts that are not gone; its partial indexes say so
-- too, so they still answer its counts alone.
DROP INDEX hosts_failing_at;
DROP INDEX hosts_failing_code;
DROP INDEX hosts_failing_grp;
DROP INDEX hosts_failing_name;
CREATE INDEX hosts_failing_at   ON hosts (fail_at)                          WHERE state = 'failing' AND gone_at IS NULL;
CREATE INDEX hosts_failing_code ON hosts (fail_hresult, fail_at)            WHERE state = 'failing' AND gone_at IS NULL;
CREATE INDEX hosts_failing_grp  ON hosts (wsus_group, fail_hresult, fail_at) WHERE state = 'failing' AND gone_at IS NULL;
CREATE INDEX hosts_failing_name ON hosts (name)                             WHERE state = 'failing' AND gone_at IS NULL;

-- One row per WSUS server synced. cursor_at is that server's own UTC time
-- up to which every report has been committed; the next incremental sync
-- reads from a little before it.
CREATE TABLE wsus_servers (
	name         TEXT    PRIMARY KEY COLLATE NOCASE,
	cursor_at    INTEGER NOT NULL,
	full_sync_at INTEGER, -- the cursor of the last full reconcile
	updated_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- Each inventory sync from a WSUS server, kept like a run: who or what
-- started it, its counts, its outcome, and its log. Times are INTEGER unix
-- milliseconds (UTC).
CREATE TABLE wsus_syncs (
	id           INTEGER PRIMARY KEY,
	server       TEXT    NOT NULL COLLATE NOCASE,
	full         INTEGER NOT NULL,             -- 1 for a full reconcile
	started_by   TEXT    NOT NULL,             -- "schedule", "start" or the user's name
	started_at   INTEGER NOT NULL,
	finished_at  INTEGER,
	outcome      TEXT    NOT NULL DEFAULT 'running', -- running, succeeded, partial, failed, interrupted
	computers    INTEGER NOT NULL DEFAULT 0,
	new          INTEGER NOT NULL DEFAULT 0,
	updated      INTEGER NOT NULL DEFAULT 0,
	gone         INTEGER NOT NULL DEFAULT 0,
	failing      INTEGER NOT NULL DEFAULT 0,
	events       INTEGER NOT NULL DEFAULT 0,
	history      INTEGER NOT NULL DEFAULT 0,
	ghosts       INTEGER NOT NULL DEFAULT 0,
	problems     INTEGER NOT NULL DEFAULT 0,
	error        TEXT    NOT NULL DEFAULT '',  -- why it failed, for people
	log          TEXT    NOT NULL DEFAULT ''   -- warnings, refused records and the collector's last lines
);
CREATE INDEX wsus_syncs_started ON wsus_syncs (started_at DESC);

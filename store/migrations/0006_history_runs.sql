-- Runs gain the history procedure: "Refresh history" reads a host's own
-- update history and changes nothing on it. SQLite cannot change a CHECK
-- in place, so runs is rebuilt (https://www.sqlite.org/lang_altertable.html,
-- "Making Other Kinds Of Table Schema Changes"); its events move with it,
-- since dropping runs would cascade to them. Renaming the new tables makes
-- SQLite rewrite the foreign key of run_events to name runs again.

CREATE TABLE runs_v6 (
	id           INTEGER PRIMARY KEY,
	host_id      INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
	batch_id     INTEGER REFERENCES batches (id) ON DELETE SET NULL,
	procedure    TEXT    NOT NULL CHECK (procedure IN ('repair', 'check', 'history')),
	requested_by TEXT    NOT NULL,
	state        TEXT    NOT NULL DEFAULT 'queued'
	             CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
	-- Why it ended as it did, in one word a filter can use: repaired,
	-- still_failing, unknown, unreachable, auth, refused, error, cancelled…
	outcome      TEXT    NOT NULL DEFAULT '',
	summary      TEXT    NOT NULL DEFAULT '',
	error        TEXT    NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	started_at   INTEGER,
	finished_at  INTEGER
);
INSERT INTO runs_v6 (id, host_id, batch_id, procedure, requested_by, state, outcome, summary, error, created_at, started_at, finished_at)
	SELECT id, host_id, batch_id, procedure, requested_by, state, outcome, summary, error, created_at, started_at, finished_at FROM runs;

CREATE TABLE run_events_v6 (
	run_id      INTEGER NOT NULL REFERENCES runs_v6 (id) ON DELETE CASCADE,
	seq         INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	kind        TEXT    NOT NULL CHECK (kind IN ('step_started', 'output', 'step_finished', 'run_finished')),
	step        TEXT    NOT NULL DEFAULT '',
	stream      TEXT    NOT NULL DEFAULT '', -- stdout or stderr, for output
	text        TEXT    NOT NULL DEFAULT '',
	status      TEXT    NOT NULL DEFAULT '', -- for step_finished and run_finished
	duration_ms INTEGER,
	detail      TEXT    NOT NULL DEFAULT '', -- JSON of the step's parsed result
	PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
INSERT INTO run_events_v6 (run_id, seq, at, kind, step, stream, text, status, duration_ms, detail)
	SELECT run_id, seq, at, kind, step, stream, text, status, duration_ms, detail FROM run_events;

DROP TABLE run_events;
DROP TABLE runs;
ALTER TABLE runs_v6 RENAME TO runs;
ALTER TABLE run_events_v6 RENAME TO run_events;

-- The indexes went with the old table.
CREATE UNIQUE INDEX runs_one_active_per_host ON runs (host_id) WHERE state IN ('queued', 'running');
CREATE INDEX runs_created ON runs (created_at DESC, id DESC);
CREATE INDEX runs_host    ON runs (host_id, created_at DESC);
CREATE INDEX runs_batch   ON runs (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX runs_active  ON runs (state) WHERE state IN ('queued', 'running');

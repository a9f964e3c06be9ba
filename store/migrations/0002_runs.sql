-- Repair runs and their append-only logs.

-- A batch groups runs started together ("repair all 120 hosts with 0x80070002").
CREATE TABLE batches (
	id           INTEGER PRIMARY KEY,
	procedure    TEXT    NOT NULL,
	requested_by TEXT    NOT NULL,
	description  TEXT    NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL
);

CREATE TABLE runs (
	id           INTEGER PRIMARY KEY,
	host_id      INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
	batch_id     INTEGER REFERENCES batches (id) ON DELETE SET NULL,
	procedure    TEXT    NOT NULL CHECK (procedure IN ('repair', 'check')),
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

-- At most one active run per host, enforced where it cannot race.
CREATE UNIQUE INDEX runs_one_active_per_host ON runs (host_id) WHERE state IN ('queued', 'running');
CREATE INDEX runs_created ON runs (created_at DESC, id DESC);
CREATE INDEX runs_host    ON runs (host_id, created_at DESC);
CREATE INDEX runs_batch   ON runs (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX runs_active  ON runs (state) WHERE state IN ('queued', 'running');

-- Every event of a run, numbered per run from 1; seq is the SSE event id.
CREATE TABLE run_events (
	run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
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

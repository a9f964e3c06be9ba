-- Each host's latest finished repair of each failure code (0: a repair
-- of a host whose failure was not recorded), kept by triggers as runs
-- finish, so the evidence and the reports count hosts from one small
-- table instead of grouping every repair run at every request.
CREATE TABLE repair_latest (
	host_id    INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
	code       INTEGER NOT NULL,
	created_at INTEGER NOT NULL, -- the run's; the latest run wins
	run_id     INTEGER NOT NULL,
	outcome    TEXT    NOT NULL,
	PRIMARY KEY (host_id, code)
) WITHOUT ROWID;
CREATE INDEX repair_latest_code ON repair_latest (code, created_at, outcome);
CREATE INDEX repair_latest_time ON repair_latest (created_at, host_id, outcome);

INSERT INTO repair_latest (host_id, code, created_at, run_id, outcome)
	SELECT host_id, ifnull(fail_hresult, 0), max(created_at), id, outcome
	FROM runs WHERE procedure = 'repair' AND finished_at IS NOT NULL
	GROUP BY host_id, ifnull(fail_hresult, 0);

CREATE TRIGGER repair_latest_finish AFTER UPDATE OF finished_at ON runs
	WHEN NEW.procedure = 'repair' AND NEW.finished_at IS NOT NULL
BEGIN
	INSERT INTO repair_latest (host_id, code, created_at, run_id, outcome)
		VALUES (NEW.host_id, ifnull(NEW.fail_hresult, 0), NEW.created_at, NEW.id, NEW.outcome)
		ON CONFLICT (host_id, code) DO UPDATE SET created_at = excluded.created_at, run_id = excluded.run_id,
			outcome = excluded.outcome
		WHERE excluded.created_at > repair_latest.created_at
			OR excluded.created_at = repair_latest.created_at AND excluded.run_id >= repair_latest.run_id;
END;

-- A run written already finished (an import of old runs, a test fixture)
-- counts the same way.
CREATE TRIGGER repair_latest_insert AFTER INSERT ON runs
	WHEN NEW.procedure = 'repair' AND NEW.finished_at IS NOT NULL
BEGIN
	INSERT INTO repair_latest (host_id, code, created_at, run_id, outcome)
		VALUES (NEW.host_id, ifnull(NEW.fail_hresult, 0), NEW.created_at, NEW.id, NEW.outcome)
		ON CONFLICT (host_id, code) DO UPDATE SET created_at = excluded.created_at, run_id = excluded.run_id,
			outcome = excluded.outcome
		WHERE excluded.created_at > repair_latest.created_at
			OR excluded.created_at = repair_latest.created_at AND excluded.run_id >= repair_latest.run_id;
END;

-- Summaries the reports page counts from instead of the hosts and runs:
-- each holds counts by day (days since 1970-01-01 UTC: a time in
-- milliseconds divided by 86,400,000), so a report over whole days sums a
-- few hundred rows instead of grouping tens of thousands at every request.
-- The host's WSUS group and OS in them are the host's as they are now.
--
-- Kept current in the same transaction as the change they count:
-- - repair_days, repair_latest_days, repair_host_latest and
--   repair_host_days, and each host's newest run (at the end), by the
--   triggers below, as runs are created and end (runs are never written
--   in bulk);
-- - failure_days and compliance_hosts, and all of them when a host's
--   group or OS changes, by the store where it already writes hosts
--   (new hosts, failure summaries, syncs, host updates), one statement
--   per batch of hosts: a trigger on hosts would run for every host of a
--   bulk import.
-- The store deletes no host; a host deleted by hand leaves its counts here
-- until the next change that recounts it.

-- Failing hosts not gone, by the day of their current failure, group and
-- error code.
CREATE TABLE failure_days (
	day   INTEGER NOT NULL,
	grp   TEXT    NOT NULL,
	code  INTEGER NOT NULL,
	hosts INTEGER NOT NULL,
	PRIMARY KEY (day, grp, code)
) WITHOUT ROWID;

-- Hosts not gone, by group, state and the day of their last report (day
-- 0 for none): compliance by group sums it, and counts from the hosts only
-- those that reported on the day its "stale" boundary falls in.
CREATE TABLE compliance_hosts (
	grp   TEXT    NOT NULL,
	state TEXT    NOT NULL,
	day   INTEGER NOT NULL,
	hosts INTEGER NOT NULL,
	PRIMARY KEY (grp, state, day)
) WITHOUT ROWID;

-- Finished repair runs, by the day they were created, the host's group,
-- the failure code they set out to fix (0: not recorded) and outcome.
CREATE TABLE repair_days (
	day     INTEGER NOT NULL,
	grp     TEXT    NOT NULL,
	code    INTEGER NOT NULL,
	outcome TEXT    NOT NULL,
	runs    INTEGER NOT NULL,
	PRIMARY KEY (day, grp, code, outcome)
) WITHOUT ROWID;

-- repair_latest's rows (each host's latest repair of each code), by the
-- day of that run, the host's group and OS, code and outcome.
CREATE TABLE repair_latest_days (
	day     INTEGER NOT NULL,
	grp     TEXT    NOT NULL,
	os      TEXT    NOT NULL,
	code    INTEGER NOT NULL,
	outcome TEXT    NOT NULL,
	hosts   INTEGER NOT NULL,
	PRIMARY KEY (day, grp, os, code, outcome)
) WITHOUT ROWID;

-- Each host's latest finished repair of any code (the latest of its
-- repair_latest rows; of two at the same time, the later run).
CREATE TABLE repair_host_latest (
	host_id    INTEGER PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	run_id     INTEGER NOT NULL,
	outcome    TEXT    NOT NULL
);

-- repair_host_latest by the day of that run, the host's group and OS, and
-- outcome.
CREATE TABLE repair_host_days (
	day     INTEGER NOT NULL,
	grp     TEXT    NOT NULL,
	os      TEXT    NOT NULL,
	outcome TEXT    NOT NULL,
	hosts   INTEGER NOT NULL,
	PRIMARY KEY (day, grp, os, outcome)
) WITHOUT ROWID;

INSERT INTO failure_days (day, grp, code, hosts)
	SELECT fail_at / 86400000, wsus_group, ifnull(fail_hresult, 0), count(*) FROM hosts
	WHERE state = 'failing' AND gone_at IS NULL AND fail_at IS NOT NULL
	GROUP BY 1, 2, 3;

INSERT INTO compliance_hosts (grp, state, day, hosts)
	SELECT wsus_group, state, ifnull(last_report_at, 0) / 86400000, count(*) FROM hosts
	WHERE gone_at IS NULL
	GROUP BY 1, 2, 3;

INSERT INTO repair_days (day, grp, code, outcome, runs)
	SELECT r.created_at / 86400000, h.wsus_group, ifnull(r.fail_hresult, 0), r.outcome, count(*)
	FROM runs r JOIN hosts h ON h.id = r.host_id
	WHERE r.procedure = 'repair' AND r.state NOT IN ('queued', 'running')
	GROUP BY 1, 2, 3, 4;

INSERT INTO repair_latest_days (day, grp, os, code, outcome, hosts)
	SELECT l.created_at / 86400000, h.wsus_group, h.os_caption, l.code, l.outcome, count(*)
	FROM repair_latest l JOIN hosts h ON h.id = l.host_id
	GROUP BY 1, 2, 3, 4, 5;

INSERT INTO repair_host_latest (host_id, created_at, run_id, outcome)
	SELECT host_id, created_at, run_id, outcome FROM (
		SELECT host_id, created_at, run_id, outcome,
			row_number() OVER (PARTITION BY host_id ORDER BY created_at DESC, run_id DESC) AS rn
		FROM repair_latest)
	WHERE rn = 1;

INSERT INTO repair_host_days (day, grp, os, outcome, hosts)
	SELECT l.created_at / 86400000, h.wsus_group, h.os_caption, l.outcome, count(*)
	FROM repair_host_latest l JOIN hosts h ON h.id = l.host_id
	GROUP BY 1, 2, 3, 4;

-- A finished repair counts once in repair_days: when it is written
-- finished, when it ends, and again where it moves if its row changes.
CREATE TRIGGER repair_days_insert AFTER INSERT ON runs
	WHEN NEW.procedure = 'repair' AND NEW.state NOT IN ('queued', 'running')
BEGIN
	INSERT INTO repair_days (day, grp, code, outcome, runs)
		SELECT NEW.created_at / 86400000, h.wsus_group, ifnull(NEW.fail_hresult, 0), NEW.outcome, 1
		FROM hosts h WHERE h.id = NEW.host_id
		ON CONFLICT (day, grp, code, outcome) DO UPDATE SET runs = runs + 1;
END;

CREATE TRIGGER repair_days_update AFTER UPDATE OF host_id, procedure, state, outcome, created_at, fail_hresult ON runs
	WHEN OLD.procedure = 'repair' AND OLD.state NOT IN ('queued', 'running')
		OR NEW.procedure = 'repair' AND NEW.state NOT IN ('queued', 'running')
BEGIN
	UPDATE repair_days SET runs = runs - 1
		WHERE OLD.procedure = 'repair' AND OLD.state NOT IN ('queued', 'running')
			AND day = OLD.created_at / 86400000 AND grp = (SELECT wsus_group FROM hosts WHERE id = OLD.host_id)
			AND code = ifnull(OLD.fail_hresult, 0) AND outcome = OLD.outcome;
	DELETE FROM repair_days
		WHERE day = OLD.created_at / 86400000 AND grp = (SELECT wsus_group FROM hosts WHERE id = OLD.host_id)
			AND code = ifnull(OLD.fail_hresult, 0) AND outcome = OLD.outcome AND runs = 0;
	INSERT INTO repair_days (day, grp, code, outcome, runs)
		SELECT NEW.created_at / 86400000, h.wsus_group, ifnull(NEW.fail_hresult, 0), NEW.outcome, 1
		FROM hosts h WHERE h.id = NEW.host_id AND NEW.procedure = 'repair' AND NEW.state NOT IN ('queued', 'running')
		ON CONFLICT (day, grp, code, outcome) DO UPDATE SET runs = runs + 1;
END;

-- repair_latest's triggers (0013) insert or move its rows; these count
-- them, and carry each to the host's latest of any code.
CREATE TRIGGER repair_latest_days_insert AFTER INSERT ON repair_latest
BEGIN
	INSERT INTO repair_latest_days (day, grp, os, code, outcome, hosts)
		SELECT NEW.created_at / 86400000, h.wsus_group, h.os_caption, NEW.code, NEW.outcome, 1
		FROM hosts h WHERE h.id = NEW.host_id
		ON CONFLICT (day, grp, os, code, outcome) DO UPDATE SET hosts = hosts + 1;
	INSERT INTO repair_host_latest (host_id, created_at, run_id, outcome)
		VALUES (NEW.host_id, NEW.created_at, NEW.run_id, NEW.outcome)
		ON CONFLICT (host_id) DO UPDATE SET created_at = excluded.created_at, run_id = excluded.run_id,
			outcome = excluded.outcome
		WHERE excluded.created_at > repair_host_latest.created_at
			OR excluded.created_at = repair_host_latest.created_at AND excluded.run_id >= repair_host_latest.run_id;
END;

CREATE TRIGGER repair_latest_days_update AFTER UPDATE ON repair_latest
BEGIN
	UPDATE repair_latest_days SET hosts = hosts - 1
		WHERE day = OLD.created_at / 86400000 AND grp = (SELECT wsus_group FROM hosts WHERE id = OLD.host_id)
			AND os = (SELECT os_caption FROM hosts WHERE id = OLD.host_id) AND code = OLD.code AND outcome = OLD.outcome;
	DELETE FROM repair_latest_days
		WHERE day = OLD.created_at / 86400000 AND grp = (SELECT wsus_group FROM hosts WHERE id = OLD.host_id)
			AND os = (SELECT os_caption FROM hosts WHERE id = OLD.host_id) AND code = OLD.code AND outcome = OLD.outcome
			AND hosts = 0;
	INSERT INTO repair_latest_days (day, grp, os, code, outcome, hosts)
		SELECT NEW.created_at / 86400000, h.wsus_group, h.os_caption, NEW.code, NEW.outcome, 1
		FROM hosts h WHERE h.id = NEW.host_id
		ON CONFLICT (day, grp, os, code, outcome) DO UPDATE SET hosts = hosts + 1;
	INSERT INTO repair_host_latest (host_id, created_at, run_id, outcome)
		VALUES (NEW.host_id, NEW.created_at, NEW.run_id, NEW.outcome)
		ON CONFLICT (host_id) DO UPDATE SET created_at = excluded.created_at, run_id = excluded.run_id,
			outcome = excluded.outcome
		WHERE excluded.created_at > repair_host_latest.created_at
			OR excluded.created_at = repair_host_latest.created_at AND excluded.run_id >= repair_host_latest.run_id;
END;

CREATE TRIGGER repair_host_days_insert AFTER INSERT ON repair_host_latest
BEGIN
	INSERT INTO repair_host_days (day, grp, os, outcome, hosts)
		SELECT NEW.created_at / 86400000, h.wsus_group, h.os_caption, NEW.outcome, 1
		FROM hosts h WHERE h.id = NEW.host_id
		ON CONFLICT (day, grp, os, outcome) DO UPDATE SET hosts = hosts + 1;
END;

CREATE TRIGGER repair_host_days_update AFTER UPDATE ON repair_host_latest
BEGIN
	UPDATE repair_host_days SET hosts = hosts - 1
		WHERE day = OLD.created_at / 86400000 AND grp = (SELECT wsus_group FROM hosts WHERE id = OLD.host_id)
			AND os = (SELECT os_caption FROM hosts WHERE id = OLD.host_id) AND outcome = OLD.outcome;
	DELETE FROM repair_host_days
		WHERE day = OLD.created_at / 86400000 AND grp = (SELECT wsus_group FROM hosts WHERE id = OLD.host_id)
			AND os = (SELECT os_caption FROM hosts WHERE id = OLD.host_id) AND outcome = OLD.outcome AND hosts = 0;
	INSERT INTO repair_host_days (day, grp, os, outcome, hosts)
		SELECT NEW.created_at / 86400000, h.wsus_group, h.os_caption, NEW.outcome, 1
		FROM hosts h WHERE h.id = NEW.host_id
		ON CONFLICT (day, grp, os, outcome) DO UPDATE SET hosts = hosts + 1;
END;

-- The median time to a verified repair reads the verified repairs only,
-- from an index that holds what it needs.
CREATE INDEX runs_repaired ON runs (created_at, fail_hresult, host_id, fail_at, finished_at)
	WHERE procedure = 'repair' AND outcome = 'repaired' AND fail_at IS NOT NULL AND finished_at IS NOT NULL;

-- Each host's newest run (by id, as LastRuns reads it), on the host's own
-- row, kept by triggers as runs are created and end: the hosts export
-- writes it beside every failing host, and a join to the runs for each
-- host was most of the export's time.
ALTER TABLE hosts ADD COLUMN last_run_id          INTEGER;
ALTER TABLE hosts ADD COLUMN last_run_procedure   TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN last_run_outcome     TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN last_run_finished_at INTEGER;

UPDATE hosts SET last_run_id = r.id, last_run_procedure = r.procedure, last_run_outcome = r.outcome,
	last_run_finished_at = r.finished_at
FROM runs r WHERE r.id = (SELECT max(x.id) FROM runs x WHERE x.host_id = hosts.id);

CREATE TRIGGER hosts_last_run_insert AFTER INSERT ON runs
BEGIN
	UPDATE hosts SET last_run_id = NEW.id, last_run_procedure = NEW.procedure, last_run_outcome = NEW.outcome,
		last_run_finished_at = NEW.finished_at
	WHERE id = NEW.host_id AND ifnull(last_run_id, 0) <= NEW.id;
END;

CREATE TRIGGER hosts_last_run_update AFTER UPDATE OF procedure, outcome, finished_at ON runs
BEGIN
	UPDATE hosts SET last_run_procedure = NEW.procedure, last_run_outcome = NEW.outcome,
		last_run_finished_at = NEW.finished_at
	WHERE id = NEW.host_id AND last_run_id = NEW.id;
END;

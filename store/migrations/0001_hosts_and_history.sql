-- Hosts and their Windows Update history.
-- Times are INTEGER unix milliseconds (UTC). HRESULTs are unsigned 32-bit.

CREATE TABLE hosts (
	id                   INTEGER PRIMARY KEY,
	name                 TEXT    NOT NULL COLLATE NOCASE UNIQUE,
	fqdn                 TEXT    NOT NULL DEFAULT '',
	address              TEXT    NOT NULL DEFAULT '', -- IP or IP:port to dial instead of resolving the name
	os_caption           TEXT    NOT NULL DEFAULT '',
	os_build             TEXT    NOT NULL DEFAULT '',
	wsus_group           TEXT    NOT NULL DEFAULT '',
	last_report_at       INTEGER,
	history_refreshed_at INTEGER,
	-- failing: newest attempt at some update failed; ok: none did; repaired:
	-- a repair's verification says so; unknown: no history yet.
	state                TEXT    NOT NULL DEFAULT 'unknown'
	                     CHECK (state IN ('failing', 'ok', 'repaired', 'unknown')),
	-- The newest failure, kept in step with update_events by the store so the
	-- triage page reads one table.
	fail_event_id        INTEGER,
	fail_hresult         INTEGER,
	fail_at              INTEGER,
	fail_kb              TEXT    NOT NULL DEFAULT '',
	fail_title           TEXT    NOT NULL DEFAULT '',
	created_at           INTEGER NOT NULL,
	updated_at           INTEGER NOT NULL
);

-- Partial indexes over failing hosts only: the triage page never reads the
-- others. Each covers the columns its counts need, so counting is index-only.
CREATE INDEX hosts_failing_at   ON hosts (fail_at)                          WHERE state = 'failing';
CREATE INDEX hosts_failing_code ON hosts (fail_hresult, fail_at)            WHERE state = 'failing';
CREATE INDEX hosts_failing_grp  ON hosts (wsus_group, fail_hresult, fail_at) WHERE state = 'failing';
CREATE INDEX hosts_failing_name ON hosts (name)                             WHERE state = 'failing';

-- Substring search on host names: a trigram index answers name LIKE '%abc%'
-- without scanning every host. Triggers keep it in step with hosts.
CREATE VIRTUAL TABLE hosts_search USING fts5 (name, content = 'hosts', content_rowid = 'id', tokenize = 'trigram');
CREATE TRIGGER hosts_search_insert AFTER INSERT ON hosts BEGIN
	INSERT INTO hosts_search (rowid, name) VALUES (new.id, new.name);
END;
CREATE TRIGGER hosts_search_delete AFTER DELETE ON hosts BEGIN
	INSERT INTO hosts_search (hosts_search, rowid, name) VALUES ('delete', old.id, old.name);
END;
CREATE TRIGGER hosts_search_rename AFTER UPDATE OF name ON hosts BEGIN
	INSERT INTO hosts_search (hosts_search, rowid, name) VALUES ('delete', old.id, old.name);
	INSERT INTO hosts_search (rowid, name) VALUES (new.id, new.name);
END;

CREATE TABLE update_events (
	id        INTEGER PRIMARY KEY,
	host_id   INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
	at        INTEGER NOT NULL,
	update_id TEXT    NOT NULL, -- update GUID; the KB when the source has none
	kb        TEXT    NOT NULL DEFAULT '',
	title     TEXT    NOT NULL DEFAULT '',
	operation TEXT    NOT NULL,
	result    TEXT    NOT NULL,
	hresult   INTEGER NOT NULL DEFAULT 0 CHECK (hresult BETWEEN 0 AND 4294967295),
	source    TEXT    NOT NULL CHECK (source IN ('wsus', 'host', 'import', 'repair')),
	-- De-duplication key; its (host_id, at) prefix also serves a host's
	-- history newest first, so no second index slows every insert.
	UNIQUE (host_id, at, update_id, operation)
);

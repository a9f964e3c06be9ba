-- Every WSUS computer target group of a host, not only the first: a WSUS
-- computer can belong to several groups (IComputerTarget.
-- GetComputerTargetGroups, ComputerTargetGroupIds). hosts.wsus_group stays
-- the host's primary group, the first it names, for sorting and display;
-- this table holds its other groups. Most hosts have none, so an import or
-- a sync of them writes nothing here, and "in group G" is its primary
-- group's index or this one.
CREATE TABLE host_groups (
	host_id INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
	name    TEXT    NOT NULL,
	PRIMARY KEY (host_id, name)
) WITHOUT ROWID;
-- The group filters ask "which hosts are in G": by name first.
CREATE INDEX host_groups_name ON host_groups (name, host_id);

-- The name search keeps no token positions (detail=none): a trigram
-- LIKE then takes the index's candidate rows and tests each against the
-- name itself, with the same results, and every host inserted writes and
-- merges about half as much index. The search reads a page of names, so
-- the test costs it nothing it would notice. Renames and deletes keep
-- their triggers (0001), which name the table.
DROP TABLE hosts_search;
CREATE VIRTUAL TABLE hosts_search USING fts5 (name, content = 'hosts', content_rowid = 'id', tokenize = 'trigram',
	columnsize = 0, detail = none);
INSERT INTO hosts_search (hosts_search) VALUES ('rebuild');

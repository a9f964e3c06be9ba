-- Every WSUS computer target group of a host, not only the first: a WSUS
-- computer can belong to several groups (IComputerTarget.
-- GetComputerTargetGroups, ComputerTargetGroupIds). hosts.wsus_group stays
-- the host's primary group, the first it names, for sorting and display;
-- this table holds it too, so "in group G" is one lookup whichever group
-- G is. Names compare without case, as WSUS's do.
CREATE TABLE host_groups (
	host_id INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
	name    TEXT    NOT NULL COLLATE NOCASE,
	PRIMARY KEY (host_id, name)
) WITHOUT ROWID;
-- The group filters ask "which hosts are in G": by name first.
CREATE INDEX host_groups_name ON host_groups (name, host_id);

INSERT INTO host_groups (host_id, name) SELECT id, wsus_group FROM hosts WHERE wsus_group <> '';

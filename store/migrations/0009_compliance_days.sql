-- One row per day and WSUS group: the inventory's compliance as it stood
-- that day (the last count taken that day wins), so the reports can show
-- its trend without recounting the past.
CREATE TABLE compliance_days (
	day      TEXT    NOT NULL, -- YYYY-MM-DD, UTC
	grp      TEXT    NOT NULL,
	hosts    INTEGER NOT NULL,
	failing  INTEGER NOT NULL,
	stale    INTEGER NOT NULL,
	unknown  INTEGER NOT NULL,
	okay     INTEGER NOT NULL,
	PRIMARY KEY (day, grp)
) WITHOUT ROWID;

-- The reports read these instead of the tables: compliance by group
-- counts from an index of three small columns, and the repair figures
-- walk one index each, in the order their GROUP BY needs, never the runs'
-- texts. runs_latest replaces runs_evidence (0008): grouped by code and
-- host it streams each host's latest repair with no sort.
CREATE INDEX hosts_compliance ON hosts (wsus_group, state, last_report_at) WHERE gone_at IS NULL;
CREATE INDEX runs_report ON runs (created_at, state, outcome, host_id, fail_hresult, fail_at, finished_at) WHERE procedure = 'repair';
DROP INDEX runs_evidence;
CREATE INDEX runs_latest ON runs (fail_hresult, host_id, created_at, outcome, state) WHERE procedure = 'repair' AND fail_hresult IS NOT NULL;
CREATE INDEX runs_host_repair ON runs (host_id, created_at, state, outcome, fail_hresult) WHERE procedure = 'repair';

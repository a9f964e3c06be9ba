-- The failure a run set out to fix: its host's newest failure when the
-- run was created, so the estate's own evidence ("the repair fixed 47 of
-- 51 hosts with 0x80070002") can be counted per code. Runs made before
-- this migration keep NULL: which failure they faced is not known.
ALTER TABLE runs ADD COLUMN fail_hresult INTEGER;
ALTER TABLE runs ADD COLUMN fail_at      INTEGER;

-- The evidence counts repair runs of a code in a window of days.
CREATE INDEX runs_evidence ON runs (fail_hresult, created_at) WHERE procedure = 'repair' AND fail_hresult IS NOT NULL;

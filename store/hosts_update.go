package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
)

// The writes of stored hosts an upsert changes or only saw again.

// updateHost writes a changed host's fields and, when h carries them, its
// WSUS facts, which also bring a gone host back.
func (u *hostUpsert) updateHost(sh *storedHost, h HostInput) error {
	primary, groups := primaryGroup(h), otherGroups(h)
	args := []any{h.FQDN, h.Address, h.OSCaption, h.OSBuild, primary, ms(h.LastReportAt), u.now,
		false, "", "", nil, nil, nil, nil, nil, sh.id}
	if w := h.WSUS; w != nil {
		args[7], args[8], args[9], args[10], args[11] = true, w.Server, w.ComputerID, w.Failed, w.Needed
		args[12], args[13], args[14] = w.PendingReboot, w.Unknown, ms(w.SeenAt)
	}
	u.updates = append(u.updates, args)
	// The summaries (migration 0014) count hosts under their primary group
	// and OS, and failing hosts only while not gone: a host that moves
	// leaves them before the write and comes back after it (flushUpdates).
	switch {
	case sh.group != primary || sh.os != h.OSCaption:
		u.movedIDs = append(u.movedIDs, sh.id)
	case h.WSUS != nil && sh.gone.Valid:
		u.backIDs = append(u.backIDs, sh.id)
	}
	u.moves.move(complianceKey{sh.group, sh.state, reportDay(sh.lastReport)}, !sh.gone.Valid,
		complianceKey{primary, sh.state, reportDay(ms(h.LastReportAt))}, !sh.gone.Valid || h.WSUS != nil)
	// A later row of the same call compares with what was written.
	if !sameGroups(sh.groups, groups) {
		u.regroup = append(u.regroup, regroup{sh.id, groups})
	}
	sh.fqdn, sh.address, sh.os, sh.build, sh.group, sh.groups = h.FQDN, h.Address, h.OSCaption, h.OSBuild, primary, groups
	sh.lastReport = ms(h.LastReportAt)
	if w := h.WSUS; w != nil {
		sh.wsusServer, sh.wsusID, sh.gone, sh.wSeen = w.Server, w.ComputerID, sql.NullInt64{}, ms(w.SeenAt)
		sh.wFailed = sql.NullInt64{Int64: int64(w.Failed), Valid: true}
		sh.wNeeded = sql.NullInt64{Int64: int64(w.Needed), Valid: true}
		sh.wReboot = sql.NullInt64{Int64: int64(w.PendingReboot), Valid: true}
		sh.wUnknown = sql.NullInt64{Int64: int64(w.Unknown), Valid: true}
	}
	return nil
}

// flushUpdates writes the stored hosts' updates of the call. The hosts
// that move group or OS leave the summaries before the writes and come
// back after them, all in one statement each way: a first sync after an
// import, whose OS captions are WSUS's own, moves most hosts, and a
// statement a host each way took most of such a sync's time. A host
// updated twice in the call leaves once and comes back once, as the
// lists are sets to SQL (IN).
func (u *hostUpsert) flushUpdates() error {
	if len(u.updates) == 0 {
		return nil
	}
	failures, repairs := idList(append(slices.Clone(u.movedIDs), u.backIDs...)...), idList(u.movedIDs...)
	shares := func(sign int) error {
		if len(u.movedIDs)+len(u.backIDs) > 0 {
			if err := adjustShares(u.ctx, u.tx, failures, sign, failureDaysShare); err != nil {
				return err
			}
		}
		if len(u.movedIDs) > 0 {
			return adjustShares(u.ctx, u.tx, repairs, sign, repairShares...)
		}
		return nil
	}
	if err := shares(-1); err != nil {
		return err
	}
	update, err := u.tx.PrepareContext(u.ctx, `UPDATE hosts SET fqdn = ?1, address = ?2, os_caption = ?3,
			os_build = ?4, wsus_group = ?5, last_report_at = ?6, updated_at = ?7,
			wsus_server = iif(?8, ?9, wsus_server), wsus_computer_id = iif(?8, ?10, wsus_computer_id),
			wsus_failed = iif(?8, ?11, wsus_failed), wsus_needed = iif(?8, ?12, wsus_needed),
			wsus_pending_reboot = iif(?8, ?13, wsus_pending_reboot), wsus_unknown = iif(?8, ?14, wsus_unknown),
			wsus_seen_at = iif(?8, ?15, wsus_seen_at), gone_at = iif(?8, NULL, gone_at)
		WHERE id = ?16`)
	if err != nil {
		return err
	}
	defer update.Close()
	for _, args := range u.updates {
		if _, err := update.ExecContext(u.ctx, args...); err != nil {
			return fmt.Errorf("host %d: %w", args[len(args)-1], err)
		}
	}
	if err := shares(1); err != nil {
		return err
	}
	u.updates, u.movedIDs, u.backIDs = nil, nil, nil
	return nil
}

// flushSeen stamps the unchanged hosts a sync listed with its time, one
// statement per time (a sync has one).
func (u *hostUpsert) flushSeen() error {
	for at, ids := range u.seen {
		arg, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		if _, err := u.tx.ExecContext(u.ctx, "UPDATE hosts SET wsus_seen_at = ? WHERE id IN (SELECT value FROM json_each(?))",
			at, string(arg)); err != nil {
			return fmt.Errorf("stamp %d hosts seen: %w", len(ids), err)
		}
	}
	return nil
}

package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
)

// The writes of stored hosts an upsert changes or only saw again.

// updateHost writes a changed host's fields and, when h carries them, its
// WSUS facts, which also bring a gone host back.
func (u *hostUpsert) updateHost(sh *storedHost, h HostInput) error {
	if u.update == nil {
		var err error
		u.update, err = u.tx.PrepareContext(u.ctx, `UPDATE hosts SET fqdn = ?1, address = ?2, os_caption = ?3,
				os_build = ?4, wsus_group = ?5, last_report_at = ?6, updated_at = ?7,
				wsus_server = iif(?8, ?9, wsus_server), wsus_computer_id = iif(?8, ?10, wsus_computer_id),
				wsus_failed = iif(?8, ?11, wsus_failed), wsus_needed = iif(?8, ?12, wsus_needed),
				wsus_pending_reboot = iif(?8, ?13, wsus_pending_reboot), wsus_unknown = iif(?8, ?14, wsus_unknown),
				wsus_seen_at = iif(?8, ?15, wsus_seen_at), gone_at = iif(?8, NULL, gone_at)
			WHERE id = ?16`)
		if err != nil {
			return err
		}
	}
	primary, groups := primaryGroup(h), otherGroups(h)
	args := []any{h.FQDN, h.Address, h.OSCaption, h.OSBuild, primary, ms(h.LastReportAt), u.now,
		false, "", "", nil, nil, nil, nil, nil, sh.id}
	if w := h.WSUS; w != nil {
		args[7], args[8], args[9], args[10], args[11] = true, w.Server, w.ComputerID, w.Failed, w.Needed
		args[12], args[13], args[14] = w.PendingReboot, w.Unknown, ms(w.SeenAt)
	}
	// The summaries (migration 0014) count hosts under their primary group
	// and OS, and failing hosts only while not gone: a host that moves
	// leaves them before the write and comes back after it. Hosts rarely
	// move, so this costs an import or a sync next to nothing.
	moved := sh.group != primary || sh.os != h.OSCaption
	back := h.WSUS != nil && sh.gone.Valid
	ids := idList(sh.id)
	if err := u.adjust(ids, moved, back, -1); err != nil {
		return err
	}
	if _, err := u.update.ExecContext(u.ctx, args...); err != nil {
		return err
	}
	if err := u.adjust(ids, moved, back, 1); err != nil {
		return err
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

// adjust adds sign times the host ids' part of the summaries that its
// update changes: all of them when it moves group or OS, the failing
// hosts when it comes back from gone.
func (u *hostUpsert) adjust(ids string, moved, back bool, sign int) error {
	if moved || back {
		if err := adjustFailureDays(u.ctx, u.tx, ids, sign); err != nil {
			return err
		}
	}
	if moved {
		return adjustHostRepairs(u.ctx, u.tx, ids, sign)
	}
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

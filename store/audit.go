package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
	"unicode/utf8"
)

// Audit actions: what someone did. Dotted names group by subject so a
// filter on a prefix reads naturally.
const (
	ActionLoginOK       = "login.ok"
	ActionLoginFailed   = "login.failed"
	ActionLogout        = "logout"
	ActionRepairStart   = "repair.start"
	ActionRepairCancel  = "repair.cancel"
	ActionRepairBulk    = "repair.bulk"
	ActionHistoryReload = "history.refresh"
	ActionExport        = "export"
	ActionSyncStart     = "sync.start"
	ActionTokenCreate   = "token.create"
	ActionTokenRevoke   = "token.revoke"
	ActionUserCreate    = "user.create"
	ActionUserRole      = "user.role"
	ActionUserDisable   = "user.disable"
	ActionUserEnable    = "user.enable"
	ActionUserPassword  = "user.password"
	ActionSettings      = "settings.change"
	ActionAccessDenied  = "access.denied"
	ActionCrossOrigin   = "csrf.blocked"
)

// Audit outcomes.
const (
	OutcomeOK     = "ok"
	OutcomeFailed = "failed" // the action was attempted and did not work
	OutcomeDenied = "denied" // the action was refused: role, throttle, cross-site
	OutcomeError  = "error"  // the server failed
)

// AuditEntry is one line of the audit log. It never holds passwords,
// session tokens or remote output.
type AuditEntry struct {
	ID        int64
	At        time.Time
	Actor     string // user name; "" when nobody was signed in
	Client    string // client IP address, "local" for commands
	Action    string
	Target    string // what it was done to: a host, a run, a user, "winrm"
	Outcome   string
	Detail    string
	RequestID string
}

// Longest audit fields, in characters. Longer values are cut to end in
// "…", so no request can make a row of any size: an export's target is its
// query string, and a failed sign-in's is whatever name was typed.
const (
	AuditTargetMax = 256
	AuditDetailMax = 1024
	auditShortMax  = 128 // actor, client, action, outcome, request ID
)

// Audit appends e to the audit log, its fields capped (see AuditTargetMax);
// a zero At means now.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.Target, e.Detail = capText(e.Target, AuditTargetMax), capText(e.Detail, AuditDetailMax)
	e.Actor, e.Client, e.Action = capText(e.Actor, auditShortMax), capText(e.Client, auditShortMax), capText(e.Action, auditShortMax)
	e.Outcome, e.RequestID = capText(e.Outcome, auditShortMax), capText(e.RequestID, auditShortMax)
	_, err := s.write.quiet().ExecContext(ctx, `INSERT INTO audit_log (at, actor, client, action, target, outcome, detail, request_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.At.UnixMilli(), e.Actor, e.Client, e.Action, e.Target, e.Outcome, e.Detail, e.RequestID)
	return mapErr("audit", err)
}

// capText returns s when it has at most n characters, else its first n-1
// followed by "…", cut between characters.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	count := 0
	for i := range s {
		if count == n-1 {
			if utf8.RuneCountInString(s[i:]) <= 1 {
				return s // exactly n characters
			}
			return s[:i] + "…"
		}
		count++
	}
	return s
}

// AuditFilter narrows the audit log. Empty fields match everything; Action
// ending in "." matches a prefix ("user." is every user change).
type AuditFilter struct {
	Actor   string
	Action  string
	Outcome string
	Target  string // substring
	Since   time.Time
	Until   time.Time // exclusive
	Limit   int       // 0 means no limit
	Offset  int
}

// where builds the WHERE clause and its arguments.
func (f AuditFilter) where() (string, []any) {
	var conds []string
	var args []any
	if f.Actor != "" {
		conds, args = append(conds, "actor = ? COLLATE NOCASE"), append(args, f.Actor)
	}
	if strings.HasSuffix(f.Action, ".") {
		conds, args = append(conds, "substr(action, 1, ?) = ?"), append(args, len(f.Action), f.Action)
	} else if f.Action != "" {
		conds, args = append(conds, "action = ?"), append(args, f.Action)
	}
	if f.Outcome != "" {
		conds, args = append(conds, "outcome = ?"), append(args, f.Outcome)
	}
	if f.Target != "" {
		conds, args = append(conds, "instr(lower(target), lower(?)) > 0"), append(args, f.Target)
	}
	if !f.Since.IsZero() {
		conds, args = append(conds, "at >= ?"), append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		conds, args = append(conds, "at < ?"), append(args, f.Until.UnixMilli())
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// AuditEntries returns the entries matching f, newest first, and how many
// match in all.
func (s *Store) AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, int, error) {
	if err := checkFilterText("audit entries", f.Actor, f.Action, f.Outcome, f.Target); err != nil {
		return nil, 0, err
	}
	where, args := f.where()
	var total int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM audit_log`+where, args...).Scan(&total); err != nil {
		return nil, 0, mapErr("audit entries", err)
	}
	var out []AuditEntry
	err := s.eachAudit(ctx, s.read, f, func(e AuditEntry) error {
		out = append(out, e)
		return nil
	})
	return out, total, err
}

// EachAuditEntry calls fn for every entry matching f, newest first, without
// holding them all in memory (for exports). An error from fn stops the walk.
func (s *Store) EachAuditEntry(ctx context.Context, f AuditFilter, fn func(AuditEntry) error) error {
	return s.eachAudit(ctx, s.exports, f, fn)
}

func (s *Store) eachAudit(ctx context.Context, db *sql.DB, f AuditFilter, fn func(AuditEntry) error) error {
	if err := checkFilterText("audit entries", f.Actor, f.Action, f.Outcome, f.Target); err != nil {
		return err
	}
	where, args := f.where()
	q := `SELECT id, at, actor, client, action, target, outcome, detail, request_id FROM audit_log` + where +
		` ORDER BY at DESC, id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, f.Limit, f.Offset)
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return mapErr("audit entries", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e AuditEntry
		var at sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Client, &e.Action, &e.Target, &e.Outcome, &e.Detail, &e.RequestID); err != nil {
			return mapErr("audit entries", err)
		}
		e.At = fromMS(at)
		if err := fn(e); err != nil {
			return err
		}
	}
	return mapErr("audit entries", rows.Err())
}

// AuditActions lists the distinct actions recorded so far, for a filter menu.
func (s *Store) AuditActions(ctx context.Context) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT DISTINCT action FROM audit_log ORDER BY action`)
	if err != nil {
		return nil, mapErr("audit actions", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, mapErr("audit actions", err)
		}
		out = append(out, a)
	}
	return out, mapErr("audit actions", rows.Err())
}

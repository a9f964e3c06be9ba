package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// settingCriticalGroups holds the WSUS groups an admin marks as critical,
// as a JSON array of names.
const settingCriticalGroups = "inventory.critical_groups"

// Bounds of the critical group list: a list of names an admin types, not
// a copy of the directory.
const (
	maxCriticalGroups   = 100
	maxCriticalGroupLen = 256
)

// CriticalGroups returns the WSUS groups marked critical, in the order
// saved; none before an admin saves some.
func (s *Store) CriticalGroups(ctx context.Context) ([]string, error) {
	var v string
	err := s.read.QueryRowContext(ctx, "SELECT value FROM settings WHERE name = ?", settingCriticalGroups).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr("critical groups", err)
	}
	var groups []string
	if err := json.Unmarshal([]byte(v), &groups); err != nil {
		return nil, fmt.Errorf("store: critical groups: %w", err)
	}
	return groups, nil
}

// SetCriticalGroups replaces the critical groups with groups, trimmed,
// without blanks and without repeats (names compare without case, as
// WSUS's do). Too many or too long names are refused with an
// *InvalidError.
func (s *Store) SetCriticalGroups(ctx context.Context, groups []string, by string) ([]string, error) {
	var clean []string
	for _, g := range groups {
		g = strings.TrimSpace(g)
		if g == "" || containsFold(clean, g) {
			continue
		}
		if len(g) > maxCriticalGroupLen {
			return nil, &InvalidError{Reason: fmt.Sprintf("A group name is longer than %d characters.", maxCriticalGroupLen)}
		}
		clean = append(clean, g)
	}
	if len(clean) > maxCriticalGroups {
		return nil, &InvalidError{Reason: fmt.Sprintf("At most %d critical groups can be marked.", maxCriticalGroups)}
	}
	v, _ := json.Marshal(clean)
	_, err := s.write.ExecContext(ctx, `INSERT INTO settings (name, value, updated_at, updated_by) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		settingCriticalGroups, string(v), s.now().UnixMilli(), by)
	return clean, mapErr("set critical groups", err)
}

// IsCritical reports whether group is one of critical, without case.
func IsCritical(group string, critical []string) bool {
	return group != "" && containsFold(critical, group)
}

// CriticalGroup returns the first of h's groups (the primary first) that
// is one of critical, and whether there is one: a host is as critical as
// the most critical group it is in, whichever of its groups that is.
func (h Host) CriticalGroup(critical []string) (string, bool) {
	for _, g := range h.AllGroups() {
		if IsCritical(g, critical) {
			return g, true
		}
	}
	return "", false
}

package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// MaxHostGroups is how many WSUS groups one host may be in: WSUS puts no
// bound on it, but a computer in more than a few dozen groups is a
// mistake, and every host page and export lists them all.
const MaxHostGroups = 64

// hostGroups returns h's groups as the store keeps them: every group once
// (without case), none empty, the primary group (h.Group, or the first
// of h.Groups when it is empty) first and the others in the order given.
func hostGroups(h HostInput) (primary string, groups []string) {
	primary = primaryGroup(h)
	if primary == "" {
		return "", nil
	}
	groups = make([]string, 0, len(h.Groups)+1)
	groups = append(groups, primary)
	for _, g := range h.Groups {
		if g != "" && !containsFold(groups, g) {
			groups = append(groups, g)
		}
	}
	return primary, groups
}

// primaryGroup is h.Group, or the first of h.Groups when it is empty.
func primaryGroup(h HostInput) string {
	if h.Group != "" {
		return h.Group
	}
	for _, g := range h.Groups {
		if g != "" {
			return g
		}
	}
	return ""
}

// CheckGroups refuses a host in more than MaxHostGroups groups, counted
// as the store keeps them: the primary and the others, each once whatever
// its case. An import asks it of each row, so that one such row is refused
// with its line, not the whole batch it would be written in.
func CheckGroups(h HostInput) error {
	if _, groups := hostGroups(h); len(groups) > MaxHostGroups {
		return fmt.Errorf("%.64q is in %d groups, more than %d", h.Name, len(groups), MaxHostGroups)
	}
	return nil
}

// containsFold reports whether list holds g, without case.
func containsFold(list []string, g string) bool {
	return slices.ContainsFunc(list, func(c string) bool { return strings.EqualFold(c, g) })
}

// sameGroups reports whether a and b are the same groups, in any order and
// case: a group renamed only in case is not worth a write.
func sameGroups(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, g := range a {
		if !containsFold(b, g) {
			return false
		}
	}
	return true
}

// failingInGroup is the one SQL condition, for the failing-host queries
// (whose own conditions keep the hosts failing and not gone), that a host
// is in a WSUS group, any of its groups; the group is a plain ?
// placeholder the condition holds twice, so the caller passes it twice.
// The host's id is looked up in the union of the group's failing primary
// members (the failing-group index answers) and its other members
// (host_groups by name): a condition with OR on the primary column read
// every failing host's row to count one group, 55 ms at 38,000 failing
// hosts against 12 this way (sqlite3, warm). A condition, not a join,
// counts a host once however many groups it has. Names compare as
// stored, as wsus_group always has.
const failingInGroup = `id IN (SELECT id FROM hosts WHERE wsus_group = ? AND state = 'failing' AND gone_at IS NULL
	UNION ALL SELECT host_id FROM host_groups WHERE name = ?)`

// groupsColumn reads a host's other groups (all but the primary) as a
// JSON array, for hostColumns.
const groupsColumn = `(SELECT json_group_array(name) FROM host_groups WHERE host_id = hosts.id)`

// allGroups is a stored host's groups: the primary, then the others by
// name.
func allGroups(primary string, others []string) []string {
	slices.SortFunc(others, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	if primary == "" {
		return others
	}
	return append([]string{primary}, others...)
}

// parseGroups decodes groupsColumn; hosts in no group read "[]".
func parseGroups(v string) ([]string, error) {
	if v == "" || v == "[]" {
		return nil, nil
	}
	var groups []string
	if err := json.Unmarshal([]byte(v), &groups); err != nil {
		return nil, fmt.Errorf("groups %.64q: %w", v, err)
	}
	return groups, nil
}

// AllGroups is every WSUS group of h, the primary first: Groups, or Group
// alone for a Host built without them. The caller must not modify it.
func (h Host) AllGroups() []string {
	if len(h.Groups) == 0 && h.Group != "" {
		return []string{h.Group}
	}
	return h.Groups
}

// otherGroups are h's groups but the primary, as host_groups keeps them;
// nil for a host in one group or none, as most are.
func otherGroups(h HostInput) []string {
	primary := primaryGroup(h)
	if len(h.Groups) == 0 || len(h.Groups) == 1 && strings.EqualFold(h.Groups[0], primary) {
		return nil
	}
	_, groups := hostGroups(h)
	if len(groups) < 2 {
		return nil
	}
	return groups[1:]
}

// writeGroups stores the other groups of the hosts inserted in this call
// and of the stored hosts whose groups changed. A host in its primary
// group alone, most of them, costs nothing here.
func (u *hostUpsert) writeGroups(in []HostInput) error {
	var ids []int64
	var names []string
	// A host given again in the call with other groups is in regroup once
	// a time; its last groups are the ones it keeps.
	latest := make(map[int64]int, len(u.regroup)) // id -> its last entry in regroup
	for k, c := range u.regroup {
		latest[c.id] = k
	}
	for k, i := range u.insertedIdx {
		id := u.maxID + 1 + int64(k)
		if _, again := latest[id]; len(in[i].Groups) == 0 || again {
			continue
		}
		for _, g := range otherGroups(in[i]) {
			ids, names = append(ids, id), append(names, g)
		}
	}
	for k, c := range u.regroup {
		if latest[c.id] != k {
			continue // an earlier list of a host given again
		}
		if _, err := u.tx.ExecContext(u.ctx, "DELETE FROM host_groups WHERE host_id = ?", c.id); err != nil {
			return fmt.Errorf("groups of host %d: %w", c.id, err)
		}
		for _, g := range c.groups {
			ids, names = append(ids, c.id), append(names, g)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	pairs := make([][2]any, len(ids))
	for i := range ids {
		pairs[i] = [2]any{ids[i], names[i]}
	}
	arg, err := json.Marshal(pairs)
	if err != nil {
		return err
	}
	// Hosts in several groups are few: one statement of JSON for them.
	if _, err := u.tx.ExecContext(u.ctx, `INSERT OR IGNORE INTO host_groups (host_id, name)
		SELECT value ->> 0, value ->> 1 FROM json_each(?)`, string(arg)); err != nil {
		return fmt.Errorf("groups of %d hosts: %w", len(ids), err)
	}
	return nil
}

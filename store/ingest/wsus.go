package ingest

import (
	"fmt"
	"regexp"
	"time"

	"wsusfix/store"
)

// WSUSFacts is what a WSUS server says of one of its computers, before
// validation.
type WSUSFacts struct {
	Server        string // required; the WSUS server's host name
	ComputerID    string // required; the computer target's GUID
	Failed        int
	Needed        int
	PendingReboot int
	Unknown       int
	SeenAt        time.Time // required; when the sync that read it began
}

// guidPattern is a GUID as WSUS prints one, in either case.
var guidPattern = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// validateWSUS checks a host's WSUS facts; nil stays nil.
func validateWSUS(w *WSUSFacts) (*store.WSUSFacts, error) {
	if w == nil {
		return nil, nil
	}
	if err := checkName("wsus_server", w.Server); err != nil {
		return nil, err
	}
	if err := checkFields(field{"wsus_computer_id", w.ComputerID}); err != nil {
		return nil, err
	}
	if !guidPattern.MatchString(w.ComputerID) {
		return nil, fmt.Errorf("wsus_computer_id %q: want a GUID", w.ComputerID)
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"failed", w.Failed}, {"needed", w.Needed}, {"pending_reboot", w.PendingReboot}, {"unknown", w.Unknown}} {
		if n.v < 0 {
			return nil, fmt.Errorf("%s count %d is negative", n.name, n.v)
		}
	}
	if w.SeenAt.IsZero() {
		return nil, fmt.Errorf("wsus facts of %s have no sync time", w.ComputerID)
	}
	return &store.WSUSFacts{Server: w.Server, ComputerID: w.ComputerID, Failed: w.Failed, Needed: w.Needed,
		PendingReboot: w.PendingReboot, Unknown: w.Unknown, SeenAt: w.SeenAt}, nil
}

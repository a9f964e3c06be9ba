package repair

import (
	"strings"

	"wsusfix/remote/scripts"
)

// This file holds which of the update services the repair can do without
// stopping, and which the rename stops again.

// bestEffortServices may refuse to stop without failing the repair: whether
// an administrator can always stop Delivery Optimization on Windows 10 1809
// and later is not established, and a running DoSvc rarely holds
// SoftwareDistribution (if it does, the rename's retries report the lock).
var bestEffortServices = []string{"DoSvc"}

// stoppedServices lists, in stop order, the update services stop-services
// reports stopped or absent.
func stoppedServices(lines []scripts.Line) []string {
	var out []string
	for _, name := range updateServices {
		for _, l := range lines {
			var s scripts.Service
			if l.Kind == scripts.KindService && l.Decode(&s) == nil && s.OK && strings.EqualFold(s.Name, name) {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

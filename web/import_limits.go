package main

import (
	"fmt"
	"unicode/utf8"
)

// columnMax is the longest value, in characters, of each column of either
// file. Names are as long as Windows and WSUS allow, free text a few KB:
// enough for any real caption or title, and one bad row cannot bloat every
// page that lists it (the group names fill a drop-down on every triage
// page). The check comes before any other, so no message quotes a value
// longer than this.
var columnMax = map[string]int{
	"name": 253, "fqdn": 253, "address": 64, "os": 1024, "os_build": 64, "group": 255, "last_report": 64,
	"host": 253, "time": 64, "kb": 16, "title": 4096, "operation": 32, "result": 32, "hresult": 32, "update_id": 255,
}

// checkLengths refuses a row with a value longer than its column allows;
// a column without an entry in columnMax is held to a name's 255.
func checkLengths(cols, rec []string) error {
	for i, v := range rec {
		limit, ok := columnMax[cols[i]]
		if !ok {
			limit = 255
		}
		if len(v) > limit && utf8.RuneCountInString(v) > limit {
			return fmt.Errorf("%s is longer than %d characters", cols[i], limit)
		}
	}
	return nil
}

package ingest

import (
	"fmt"
	"unicode/utf8"
)

// columnMax is the longest value, in characters, of each field of either
// kind, named as the CSV columns are. Names are as long as Windows and WSUS
// allow, free text a few KB: enough for any real caption or title, and one
// bad record cannot bloat every page that lists it (the group names fill a
// drop-down on every triage page). The check comes before any other, so no
// message quotes a value longer than this.
var columnMax = map[string]int{
	"name": 253, "fqdn": 253, "address": 64, "os": 1024, "os_build": 64, "group": 255, "last_report": 64,
	"host": 253, "time": 64, "kb": 16, "title": 4096, "operation": 32, "result": 32, "hresult": 32, "update_id": 255,
}

// defaultMax is the limit of a column columnMax does not name.
const defaultMax = 255

// checkLength refuses v when it is longer than column allows.
func checkLength(column, v string) error {
	limit, ok := columnMax[column]
	if !ok {
		limit = defaultMax
	}
	// The byte length bounds the character count, so most values skip
	// counting.
	if len(v) > limit && utf8.RuneCountInString(v) > limit {
		return fmt.Errorf("%s is longer than %d characters", column, limit)
	}
	return nil
}

// checkLengths refuses a row with a value longer than its column allows;
// cols are the header's names, lower-cased, one for each value of rec.
func checkLengths(cols, rec []string) error {
	for i, v := range rec {
		if err := checkLength(cols[i], v); err != nil {
			return err
		}
	}
	return nil
}

// field is one named value of a record, for checkFields.
type field struct{ column, value string }

// checkFields refuses a record with a value longer than its field allows.
func checkFields(fs ...field) error {
	for _, f := range fs {
		if err := checkLength(f.column, f.value); err != nil {
			return err
		}
	}
	return nil
}

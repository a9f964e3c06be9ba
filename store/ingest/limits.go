package ingest

import (
	"fmt"
	"unicode/utf8"
)

// maxLength returns the longest value, in characters, of a field of
// either kind, named as the CSV columns are, and whether the column is one
// of theirs (any other is held to a name's 255). Names are as long as
// Windows and WSUS allow, free text a few KB: enough for any real caption
// or title, and one bad record cannot bloat every page that lists it (the
// group names fill a drop-down on every triage page). The check comes
// before any other, so no message quotes a value longer than this.
func maxLength(column string) (int, bool) {
	switch column {
	case "name", "fqdn", "host":
		return 253, true
	case "os":
		return 1024, true
	case "title":
		return 4096, true
	case "groups":
		return 4096, true
	case "group", "update_id":
		return 255, true
	case "address", "os_build", "last_report", "time":
		return 64, true
	case "operation", "result", "hresult":
		return 32, true
	case "kb":
		return 16, true
	}
	return 255, false
}

// checkLength refuses v when it is longer than column allows.
func checkLength(column, v string) error {
	limit, _ := maxLength(column)
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

package ingest

import (
	"strings"
	"testing"
)

// TestColumnMax ensures every column of both files has its own limit, so
// none falls back to the default by oversight.
func TestColumnMax(t *testing.T) {
	t.Parallel()
	for _, cols := range [][]string{hostColumns(), historyColumns(), historyOptional()} {
		for _, c := range cols {
			if _, ok := maxLength(c); !ok {
				t.Errorf("column %s has no limit of its own in maxLength", c)
			}
		}
	}
}

// TestCheckLength ensures limits count characters, not bytes, and the
// refusal names the column and its limit without the value.
func TestCheckLength(t *testing.T) {
	t.Parallel()
	tests := []struct {
		column, value, want string
	}{
		{"kb", strings.Repeat("é", 16), ""},
		{"kb", strings.Repeat("é", 17), "kb is longer than 16 characters"},
		{"title", strings.Repeat("x", 4096), ""},
		{"title", strings.Repeat("x", 4097), "title is longer than 4096 characters"},
		{"notes", strings.Repeat("x", 255), ""},
		{"notes", strings.Repeat("x", 256), "notes is longer than 255 characters"},
	}
	for _, tt := range tests {
		if err := checkLength(tt.column, tt.value); !errorIs(err, tt.want) {
			t.Errorf("checkLength(%s, %d characters) = %v, want %q", tt.column, len([]rune(tt.value)), err, tt.want)
		}
	}
}

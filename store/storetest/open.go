package storetest

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"wsusfix/store"
)

// Open opens the database at path for a test, creating it from the
// migrated schema (store.NewFile) when it does not exist, and closes it
// when the test ends.
func Open(tb testing.TB, path string) *store.Store {
	tb.Helper()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := store.NewFile(path); err != nil {
			tb.Fatal(err)
		}
	}
	st, err := store.Open(tb.Context(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return st
}

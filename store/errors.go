package store

import (
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound is returned (wrapped) when a requested record does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned (wrapped) when a write would break a uniqueness
// rule, such as a second host with the same name.
var ErrConflict = errors.New("conflict")

// ErrInvalidHostName is wrapped by every error ValidateHostName returns,
// and so by UpsertHosts given a name that is not a host name.
var ErrInvalidHostName = errors.New("invalid host name")

// ErrFilterTooLong is returned (wrapped) for a text filter longer than
// MaxFilterText bytes. SQLite refuses LIKE patterns over 50,000 bytes as
// "too complex", and escaping the wildcards can double a text's length;
// this keeps any caller's text from getting near that.
var ErrFilterTooLong = errors.New("filter text too long")

// MaxFilterText is the longest text filter, in bytes, the store takes.
const MaxFilterText = 1000

// checkFilterText returns ErrFilterTooLong, naming op, when any of texts is
// longer than MaxFilterText.
func checkFilterText(op string, texts ...string) error {
	for _, t := range texts {
		if len(t) > MaxFilterText {
			return fmt.Errorf("store: %s: %d bytes: %w", op, len(t), ErrFilterTooLong)
		}
	}
	return nil
}

// mapErr turns driver errors into the store's typed errors, keeping the
// original in the chain, and prefixes the operation name.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", op, ErrNotFound)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("store: %s: %w: %w", op, ErrConflict, err)
		}
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

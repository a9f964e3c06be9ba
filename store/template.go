package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// NewFile creates the database file path, which must not exist, at the
// latest schema: a copy of a database migrated once per process, written
// with Open's private mode, instead of every migration run again. It is
// for programs that make many databases, the tests above all: migrating
// took a third of the handlers package's test time. Open then finds
// nothing to migrate.
func NewFile(path string) error {
	b, err := migrated()
	if err != nil {
		return fmt.Errorf("store: new file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("store: new file: %w", err)
	}
	_, werr := f.Write(b)
	// Chmod makes the mode exactly 0600 whatever the umask, as Open's.
	if err := errors.Join(werr, f.Chmod(0o600), f.Close()); err != nil {
		return fmt.Errorf("store: new file %s: %w", path, err)
	}
	return nil
}

// migrated is the bytes of a new database with every migration applied,
// made on first use in a directory removed straight after.
var migrated = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "wsusfix-schema-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "schema.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		return nil, err
	}
	// Closing the last connection checkpoints the WAL into the file and
	// removes it, so the one file holds the whole schema.
	if err := s.Close(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		return nil, errors.New("the migrated database kept its WAL after closing")
	}
	return os.ReadFile(path)
})

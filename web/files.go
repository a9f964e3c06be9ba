package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"wsusfix/store"
)

// openStore opens the database at path and warns when other users can
// read it (see warnShared).
func openStore(ctx context.Context, path string, log *slog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	warnShared(log, store.Files(path)...)
	return st, nil
}

// cliLogger is the logger of the one-shot commands (import, user): warnings
// and errors only, as text on stderr beside their other messages.
func cliLogger(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// warnShared logs one warning when users other than the owner may read or
// write any of paths (the database, its -wal and -shm files, the key
// file), naming the chmod that fixes them. wsusfix creates its own files
// 0600, so this catches files made by hand, copied, or made by an older
// version. Missing files are skipped. Windows has no Unix modes and reports
// every writable file as 0666, so nothing is said there; the folder's ACL
// is what counts.
func warnShared(log *slog.Logger, paths ...string) {
	if runtime.GOOS == "windows" {
		return
	}
	var open []string
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			open = append(open, p)
		}
	}
	if len(open) == 0 {
		return
	}
	quoted := make([]string, len(open))
	for i, p := range open {
		quoted[i] = shellQuote(p)
	}
	log.Warn("other users on this machine can read wsusfix's files (password hashes, sessions, the audit log, "+
		"the key to stored passwords); run: chmod 600 "+strings.Join(quoted, " "), "files", open)
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain
// path characters, so the printed command can be pasted as it is.
func shellQuote(s string) string {
	plain := s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@%,=") == ""
	if plain && !strings.HasPrefix(s, "-") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

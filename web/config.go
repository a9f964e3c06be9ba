package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"
)

// defaultDB is the database file used when neither -db nor WSUSFIX_DB is set.
const defaultDB = "wsusfix.db"

// env reads the process environment; tests pass their own.
type env func(string) string

// str returns the variable's value, or def when it is unset or empty.
func (e env) str(key, def string) string {
	if v := e(key); v != "" {
		return v
	}
	return def
}

// int returns the variable as an int, or def when unset. A malformed value is
// an error rather than silently ignored.
func (e env) int(key string, def int) (int, error) {
	v := e(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not a whole number", key, v)
	}
	return n, nil
}

// bool returns the variable as a bool, or def when unset.
func (e env) bool(key string, def bool) (bool, error) {
	v := e(key)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want true or false", key, v)
	}
	return b, nil
}

// duration returns the variable as a time.Duration, or def when unset.
func (e env) duration(key string, def time.Duration) (time.Duration, error) {
	v := e(key)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: want a duration such as 30s", key, v)
	}
	return d, nil
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints usage to stderr with a one-line summary of the subcommand.
func newFlagSet(name, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: wsusfix %s [flags]\n\n%s\n\nFlags (each also read from the environment variable named in brackets):\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

// dbFlag registers -db, with WSUSFIX_DB as its fallback; every subcommand
// that opens the database uses it, so it means the same everywhere.
func dbFlag(fs *flag.FlagSet, e env) *string {
	return fs.String("db", e.str("WSUSFIX_DB", defaultDB), "SQLite database file [WSUSFIX_DB]")
}

// parseInterspersed parses flags wherever they appear among the positional
// arguments, so `import hosts f.csv -db x` and `user add alice -role admin`
// work as well as the usual order. It returns the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"wsusfix/store/ingest"
)

// importFormats is the -h text of `wsusfix import`; README.md carries the
// same text as Markdown.
const importFormats = `Imports hosts (the inventory) or their Windows Update history from a CSV
file; FILE "-" reads standard input. Import hosts first: a history row for a
host that is not in the inventory is rejected.

The file is UTF-8 (a BOM is fine, CRLF too) and starts with a header line.
Column names are case-insensitive and may come in any order. Every column
listed must be present, though values may be empty unless marked required;
an unknown column is an error, so a misspelt name is not ignored.

hosts: name,fqdn,address,os,os_build,group,last_report[,groups]
  name         required; NetBIOS name or FQDN: letters, digits, hyphens, dots
  fqdn         DNS name
  address      IP or IP:port to connect to instead of resolving the name
               (IPv6 with a port in brackets: [fd00::5]:5986)
  os           OS caption, such as Microsoft Windows 11 Enterprise
  os_build     digits and dots, such as 10.0.26100.2894
  group        WSUS computer target group: the host's primary group
  last_report  time of the host's last WSUS report
  groups       optional column: every WSUS group of the host, separated by
               semicolons; the first is the primary when group is empty
  A host already in the database (same name, any case) is updated from the
  row, and an empty value clears the stored one. Its groups are group and
  groups together: without a groups column, a host is in its group alone.

history: host,time,kb,title,operation,result,hresult[,update_id]
  host         required; must be in the inventory
  time         required
  kb           KB5034441, kb5034441 or 5034441 (6 to 8 digits)
  title        update title
  operation    required; Installation or Uninstallation (or 1, 2)
  result       required; Succeeded, SucceededWithErrors, Failed, Aborted or
               InProgress, or the OperationResultCode 2, 3, 4, 5 or 1
  hresult      0x80070002, 80070002, -2147024894 or 2147942402; empty is 0
  update_id    optional column: the update's GUID
  A row needs a kb or an update_id. A row already stored (same host, time,
  update and operation) counts as a duplicate.

Times are RFC 3339 (2024-05-14T09:30:00Z), 2024-05-14 09:30:00 (UTC) or
2024-05-14.

Good rows are stored in transactions of -batch rows. Each bad row is reported
on stderr as FILE:LINE: reason and skipped; the summary goes to stdout.
Importing the same file twice changes nothing. The exit status is 1 when the
file cannot be read or any row was rejected (the good rows are still stored).`

// runImport runs `wsusfix import hosts|history [flags] FILE.csv`.
func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := env(getenv)
	fs := newFlagSet("import", importFormats, stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: wsusfix import hosts|history [flags] FILE.csv\n\n%s\n\n"+
			"Flags (each also read from the environment variable named in brackets):\n", importFormats)
		fs.PrintDefaults()
	}
	db := dbFlag(fs, e)
	defBatch, err := e.int("WSUSFIX_IMPORT_BATCH", ingest.DefaultBatch)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	batch := fs.Int("batch", defBatch, "rows per transaction [WSUSFIX_IMPORT_BATCH]")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err // flag.ErrHelp after -h; the flag package already printed why
	}
	usage := func(format string, a ...any) error {
		fs.Usage()
		return fmt.Errorf("import: "+format, a...)
	}
	switch {
	case len(pos) == 0:
		return usage("missing kind: want hosts or history")
	case pos[0] != "hosts" && pos[0] != "history":
		return usage("unknown kind %q: want hosts or history", pos[0])
	case len(pos) == 1:
		return usage("missing FILE.csv (- reads standard input)")
	case len(pos) > 2:
		return usage("one file at a time, got %d: %s", len(pos)-1, strings.Join(pos[1:], " "))
	case *batch < 1:
		return usage("-batch %d: want at least 1", *batch)
	}
	kind, file := pos[0], pos[1]

	in, size, err := openInput(file)
	if err != nil {
		return fmt.Errorf("import %s: %w", kind, err)
	}
	defer in.Close()
	st, err := openStore(ctx, *db, cliLogger(stderr))
	if err != nil {
		return fmt.Errorf("import %s: %w", kind, err)
	}
	defer st.Close()

	name := file
	if file == "-" {
		name = "stdin"
	}
	c, err := ingest.ImportCSV(ctx, st, ingest.Kind(kind), in,
		ingest.CSVOptions{Name: name, Size: size, Batch: *batch, Messages: stderr})
	if fe := (*ingest.FileError)(nil); errors.As(err, &fe) {
		return fmt.Errorf("import %s: %w", kind, err) // refused before any row: no summary
	}
	if kind == "hosts" {
		fmt.Fprintf(stdout, "%s: read %d, imported %d, updated %d, duplicate %d, rejected %d\n",
			name, c.Read, c.Imported, c.Updated, c.Duplicate, c.Rejected)
	} else {
		fmt.Fprintf(stdout, "%s: read %d, imported %d, duplicate %d, rejected %d\n",
			name, c.Read, c.Imported, c.Duplicate, c.Rejected)
	}
	switch {
	case err != nil:
		return fmt.Errorf("import %s: %w", kind, err)
	case c.Rejected == 1:
		return fmt.Errorf("import %s: %s: 1 row rejected", kind, name)
	case c.Rejected > 1:
		return fmt.Errorf("import %s: %s: %d rows rejected", kind, name, c.Rejected)
	}
	return nil
}

// openInput opens FILE, or standard input for "-", and returns its size
// when known (else -1) for progress reports.
func openInput(file string) (io.ReadCloser, int64, error) {
	f := os.Stdin
	if file != "-" {
		var err error
		if f, err = os.Open(file); err != nil {
			return nil, 0, err
		}
	}
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	if file == "-" {
		return io.NopCloser(f), size, nil // not ours to close
	}
	return f, size, nil
}

package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"wsusfix/store"
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

hosts: name,fqdn,address,os,os_build,group,last_report
  name         required; NetBIOS name or FQDN: letters, digits, hyphens, dots
  fqdn         DNS name
  address      IP or IP:port to connect to instead of resolving the name
               (IPv6 with a port in brackets: [fd00::5]:5986)
  os           OS caption, such as Microsoft Windows 11 Enterprise
  os_build     digits and dots, such as 10.0.26100.2894
  group        WSUS computer target group
  last_report  time of the host's last WSUS report
  A host already in the database (same name, any case) is updated from the
  row, and an empty value clears the stored one.

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

// progressRows is how many rows pass between progress checks; a line is
// printed only if a second has passed, so small files print nothing.
const progressRows = 100_000

// importOptions are the knobs of one import; tests shrink them.
type importOptions struct {
	batch         int // rows per transaction
	progressEvery int // rows between progress checks
	now           func() time.Time
}

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
	defBatch, err := e.int("WSUSFIX_IMPORT_BATCH", 5000)
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

	var s sink = &hostSink{st: st, seen: map[string]seenHost{}}
	if kind == "history" {
		s = &historySink{st: st, touched: map[int64]bool{}}
	}
	o := importOptions{batch: *batch, progressEvery: progressRows, now: time.Now}
	name := file
	if file == "-" {
		name = "stdin"
	}
	if err := importCSV(ctx, in, size, name, s, o, stdout, stderr); err != nil {
		return fmt.Errorf("import %s: %w", kind, err)
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

// sink turns the records of one kind of file into store writes. add
// validates a row and queues it; flush writes the queue in one transaction
// and reports rows the store refused.
type sink interface {
	header(cols []string) error
	add(rec []string, line int) error
	pending() int
	flush(ctx context.Context, rep *report) error
	done(ctx context.Context) error // after the last flush, whatever happened
	summary() string
}

// importCSV reads a CSV file of one kind into the store and prints the
// summary line. It returns an error when the file cannot be read, the store
// fails, or any row was rejected; rows already flushed stay committed.
func importCSV(ctx context.Context, in io.Reader, size int64, name string, s sink, o importOptions, stdout, stderr io.Writer) error {
	errw := bufio.NewWriter(stderr)
	defer errw.Flush()
	rep := &report{file: name, w: errw}

	br := bufio.NewReaderSize(in, 64<<10)
	if err := skipBOM(br); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // a wrong field count is a row error, not the end of the file
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return fmt.Errorf("%s: empty file, want a header line", name)
	}
	if err != nil {
		return fmt.Errorf("%s: header: %w", name, err)
	}
	if err := s.header(header); err != nil {
		return fmt.Errorf("%s:1: %w", name, err)
	}

	// The reader reuses the record, so the names are kept apart.
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = strings.ToLower(strings.TrimSpace(h))
	}
	width, last := len(header), o.now()
	line := 1
	var readErr, storeErr error
	for storeErr == nil {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if pe := (*csv.ParseError)(nil); errors.As(err, &pe) {
			// The reader resumes on the line after the error, so one bad
			// quote costs the rows it swallowed, not the rest of the file.
			rep.read++
			rep.reject(s, pe.StartLine, "%s", describeParseError(pe))
			continue
		}
		if err != nil {
			// The reader cannot go on; the good rows read so far are
			// flushed below.
			readErr = fmt.Errorf("%s: read after line %d: %w", name, line, err)
			break
		}
		rep.read++
		line, _ = cr.FieldPos(0)
		if len(rec) != width {
			rep.reject(s, line, "has %d fields, header has %d", len(rec), width)
		} else if err := checkLengths(cols, rec); err != nil {
			rep.reject(s, line, "%v", err)
		} else if !validUTF8(rec) {
			rep.reject(s, line, "not valid UTF-8 (save the file as CSV UTF-8)")
		} else if err := s.add(rec, line); err != nil {
			rep.reject(s, line, "%v", err)
		}
		if s.pending() >= o.batch {
			storeErr = s.flush(ctx, rep)
			rep.writeMessages()
		}
		if rep.read%o.progressEvery == 0 {
			if now := o.now(); now.Sub(last) >= time.Second {
				last = now
				rep.progress(cr.InputOffset(), size)
			}
		}
	}
	if storeErr == nil {
		storeErr = s.flush(ctx, rep)
	}
	storeErr = errors.Join(storeErr, s.done(ctx))
	rep.writeMessages()
	errw.Flush()
	fmt.Fprintf(stdout, "%s: read %d, %s, rejected %d\n", name, rep.read, s.summary(), rep.rejected)
	switch {
	case readErr != nil || storeErr != nil:
		return errors.Join(readErr, storeErr)
	case rep.rejected == 1:
		return fmt.Errorf("%s: 1 row rejected", name)
	case rep.rejected > 1:
		return fmt.Errorf("%s: %d rows rejected", name, rep.rejected)
	}
	return nil
}

// skipBOM drops a UTF-8 byte order mark and refuses UTF-16, which Excel's
// "Unicode text" writes and which would otherwise surface as a baffling
// header error.
func skipBOM(br *bufio.Reader) error {
	b, _ := br.Peek(3)
	switch {
	case len(b) >= 3 && string(b[:3]) == "\xEF\xBB\xBF":
		_, err := br.Discard(3)
		return err
	case len(b) >= 2 && (string(b[:2]) == "\xFF\xFE" || string(b[:2]) == "\xFE\xFF"):
		return errors.New("file is UTF-16: save it as CSV UTF-8")
	}
	return nil
}

// validUTF8 reports whether every field of rec is valid UTF-8; Excel's
// plain "CSV" is Windows-1252, which would store garbled titles.
func validUTF8(rec []string) bool {
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return false
		}
	}
	return true
}

// describeParseError words a csv.ParseError for the row it broke; the line
// prefix is added by the report.
func describeParseError(pe *csv.ParseError) string {
	if pe.Line != pe.StartLine {
		return fmt.Sprintf("bad CSV quoting in the row starting here, found at line %d column %d: %v (lines %d-%d skipped)",
			pe.Line, pe.Column, pe.Err, pe.StartLine, pe.Line)
	}
	return fmt.Sprintf("bad CSV quoting at column %d: %v", pe.Column, pe.Err)
}

// report counts rows and writes rejections as FILE:LINE: reason, in line
// order: rejections found while good rows wait in the queue are held until
// the queue is flushed, since the store may reject some of those rows too.
type report struct {
	file     string
	w        *bufio.Writer
	read     int
	rejected int
	held     []rowMessage
}

type rowMessage struct {
	line int
	text string
}

// reject counts a rejected row and reports it.
func (r *report) reject(s sink, line int, format string, a ...any) {
	r.rejected++
	m := rowMessage{line, fmt.Sprintf(format, a...)}
	if s.pending() == 0 && len(r.held) == 0 { // nothing queued can precede it
		fmt.Fprintf(r.w, "%s:%d: %s\n", r.file, m.line, m.text)
		return
	}
	r.held = append(r.held, m)
}

// writeMessages writes the held rejections in line order.
func (r *report) writeMessages() {
	slices.SortStableFunc(r.held, func(a, b rowMessage) int { return a.line - b.line })
	for _, m := range r.held {
		fmt.Fprintf(r.w, "%s:%d: %s\n", r.file, m.line, m.text)
	}
	r.held = r.held[:0]
}

// progress writes one progress line for a large file.
func (r *report) progress(offset, size int64) {
	const mb = 1e6
	if size > 0 {
		fmt.Fprintf(r.w, "%s: read %d rows (%.1f MB of %.1f MB)...\n", r.file, r.read, float64(offset)/mb, float64(size)/mb)
	} else {
		fmt.Fprintf(r.w, "%s: read %d rows (%.1f MB)...\n", r.file, r.read, float64(offset)/mb)
	}
	r.w.Flush()
}

// columnIndex maps a header onto the kind's columns: required must all be
// present, optional may be, and anything else is an error naming it.
// Missing columns get index -1.
func columnIndex(header, required, optional []string) (map[string]int, error) {
	if len(header) == 1 && strings.Contains(header[0], ";") {
		return nil, errors.New("header is separated by semicolons: save the file with commas")
	}
	idx := make(map[string]int, len(required)+len(optional))
	for _, c := range slices.Concat(required, optional) {
		idx[c] = -1
	}
	var unknown, missing, problems []string
	for i, h := range header {
		c := strings.ToLower(strings.TrimSpace(h))
		at, ok := idx[c]
		switch {
		case c == "":
			problems = append(problems, fmt.Sprintf("column %d has no name", i+1))
		case !ok:
			unknown = append(unknown, fmt.Sprintf("%.64q", strings.TrimSpace(h)))
		case at >= 0:
			problems = append(problems, fmt.Sprintf("column %q appears twice", c))
		default:
			idx[c] = i
		}
	}
	for _, c := range required {
		if idx[c] < 0 {
			missing = append(missing, fmt.Sprintf("%q", c))
		}
	}
	if len(unknown) > 0 {
		problems = append(problems, "unknown column "+strings.Join(unknown, ", "))
	}
	if len(missing) > 0 {
		problems = append(problems, "missing column "+strings.Join(missing, ", "))
	}
	if len(problems) > 0 {
		want := strings.Join(required, ",")
		if len(optional) > 0 {
			want += "[," + strings.Join(optional, ",") + "]"
		}
		return nil, fmt.Errorf("header: %s (want %s)", strings.Join(problems, "; "), want)
	}
	return idx, nil
}

// field returns column i of rec, trimmed, or "" for a column the header
// lacks.
func field(rec []string, i int) string {
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// checkHostName is store.ValidateHostName's verdict as a row reason: the
// reason alone, since the row's message already names the column and value.
func checkHostName(s string) error {
	var he *store.HostNameError
	if err := store.ValidateHostName(s); errors.As(err, &he) {
		return errors.New(he.Reason)
	} else if err != nil {
		return err
	}
	return nil
}

// parseAddress accepts an IP address or IP:port (IPv6 with a port in
// brackets) and returns its canonical form; empty stays empty.
func parseAddress(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String(), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return "", errors.New("want an IP address or IP:port, such as 10.1.2.3, 10.1.2.3:5986 or [fd00::5]:5986")
	}
	if ap.Port() == 0 {
		return "", errors.New("port 0 cannot be dialled")
	}
	return ap.String(), nil
}

// isBuild reports whether s is empty or digits separated by single dots.
func isBuild(s string) bool {
	if s == "" {
		return true
	}
	for part := range strings.SplitSeq(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return false
			}
		}
	}
	return true
}

// parseKB accepts KB1234567, kb1234567 or 1234567 (6 to 8 digits) and
// returns "KB1234567"; empty stays empty.
func parseKB(s string) (string, error) {
	digits := s
	if len(s) >= 2 && strings.EqualFold(s[:2], "KB") {
		digits = s[2:]
	}
	if s == "" {
		return "", nil
	}
	if len(digits) < 6 || len(digits) > 8 || !isBuild(digits) || strings.Contains(digits, ".") {
		return "", errors.New("want KB followed by 6 to 8 digits, such as KB5034441")
	}
	if len(s) == len(digits)+2 && s[:2] == "KB" {
		return s, nil // already normal: no allocation
	}
	return "KB" + digits, nil
}

// parseTime accepts RFC 3339, "2006-01-02 15:04:05" (UTC) and "2006-01-02"
// (UTC midnight). It picks the layout by shape, so the common case costs
// one parse.
func parseTime(s string) (time.Time, error) {
	layout := time.RFC3339Nano
	switch {
	case len(s) == len(time.DateOnly):
		layout = time.DateOnly
	case len(s) > 10 && s[10] == ' ':
		layout = time.DateTime
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, errors.New("want RFC 3339 (2024-05-14T09:30:00Z), 2024-05-14 09:30:00 (UTC) or 2024-05-14")
	}
	return t.UTC(), nil
}

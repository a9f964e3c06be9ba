package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"wsusfix/store"
)

const hostsHeader = "name,fqdn,address,os,os_build,group,last_report\n"

// TestImportCSV_progress ensures a long import reports progress at most once
// per second and per row interval, and a quick one not at all.
func TestImportCSV_progress(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(hostsHeader)
	for i := range 10 {
		fmt.Fprintf(&b, "PC%d,,,,,,\n", i)
	}
	content := b.String()
	for _, tt := range []struct {
		name string
		tick time.Duration
		want int
	}{{"slow", 2 * time.Second, 5}, {"fast", time.Millisecond, 0}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := newTestStore(t)
			clock := time.Date(2024, 5, 14, 0, 0, 0, 0, time.UTC)
			var msgs bytes.Buffer
			o := CSVOptions{Name: "h.csv", Size: int64(len(content)), Batch: 3, Messages: &msgs, ProgressEvery: 2,
				Now: func() time.Time {
					clock = clock.Add(tt.tick)
					return clock
				}}
			if _, err := ImportCSV(t.Context(), st, Hosts, strings.NewReader(content), o); err != nil {
				t.Fatal(err)
			}
			got := strings.Count(msgs.String(), "rows (")
			if got != tt.want || (tt.want > 0 && !strings.Contains(msgs.String(), "h.csv: read 10 rows (0.0 MB of 0.0 MB)...")) {
				t.Errorf("%d progress lines, want %d:\n%s", got, tt.want, msgs.String())
			}
		})
	}
}

// TestImportCSV_refusedFiles ensures a file refused before its first row
// is a *FileError naming the file, with no counts and no row messages.
func TestImportCSV_refusedFiles(t *testing.T) {
	t.Parallel()
	st := newTestStore(t)
	tests := []struct {
		name, kind, content, want string
	}{
		{"empty", "hosts", "", "f.csv: empty file, want a header line"},
		{"UTF-16", "hosts", "\xFF\xFEn\x00a\x00", "f.csv: file is UTF-16: save it as CSV UTF-8"},
		{"bad header", "history", "host,time,kb\n", `f.csv:1: header: missing column "title", "operation", "result", "hresult" (want host,time,kb,title,operation,result,hresult[,update_id])`},
		{"semicolons", "hosts", "name;fqdn\n", "f.csv:1: header is separated by semicolons: save the file with commas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var msgs bytes.Buffer
			c, err := ImportCSV(t.Context(), st, Kind(tt.kind), strings.NewReader(tt.content),
				CSVOptions{Name: "f.csv", Messages: &msgs})
			var fe *FileError
			if !errors.As(err, &fe) || err.Error() != tt.want {
				t.Errorf("err = %v, want a *FileError %q", err, tt.want)
			}
			if c != (Counts{}) || msgs.Len() != 0 {
				t.Errorf("counts %+v, messages %q; want none", c, msgs.String())
			}
		})
	}
	if _, err := ImportCSV(t.Context(), st, "computers", strings.NewReader(hostsHeader), CSVOptions{}); err == nil {
		t.Error("an unknown kind: no error")
	}
}

// TestImportCSV_lines ensures rows are numbered by the physical line they
// start on (after a BOM, through CRLF and quoted newlines), and that
// refusals found at store time come out in line order among the others.
func TestImportCSV_lines(t *testing.T) {
	t.Parallel()
	st := newTestStore(t)
	ctx := t.Context()
	if _, err := ImportCSV(ctx, st, Hosts, strings.NewReader(hostsHeader+"PC1,,,,,,\n"), CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	content := "\uFEFFHost,Time,KB,Title,Operation,Result,HResult\r\n" +
		"GHOST1,2024-05-14,KB5037771,\"two\r\nlines\",Installation,Failed,0\r\n" + // 2-3
		"PC1,2024-05-14,KB50,,Installation,Failed,0\r\n" + // 4
		"PC1,2024-05-14,KB5037771,,Installation,Failed,0x80070002\r\n" + // 5
		"GHOST2,2024-05-14,KB5037771,,Installation,Failed,0\r\n" + // 6
		"PC1,2024-05-14,KB5037772,,Installation,Failed,bad\r\n" + // 7
		"PC1,2024-05-15,KB5037771,,Installation,Succeeded,0\r\n" // 8
	var msgs bytes.Buffer
	c, err := ImportCSV(ctx, st, History, strings.NewReader(content), CSVOptions{Name: "h.csv", Batch: 2, Messages: &msgs})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Read: 6, Imported: 2, Rejected: 4}); c != want {
		t.Errorf("counts = %+v, want %+v", c, want)
	}
	want := "h.csv:2: unknown host GHOST1 (import hosts first)\n" +
		"h.csv:4: kb \"KB50\": want KB followed by 6 to 8 digits, such as KB5034441\n" +
		"h.csv:6: unknown host GHOST2 (import hosts first)\n" +
		"h.csv:7: hresult: invalid code: \"bad\" is not a number in any accepted form; " +
		"accepted forms: 0x80070002, 80070002 (8 hex digits), -2147024894 or 2147942402\n"
	if msgs.String() != want {
		t.Errorf("messages:\n%s\nwant:\n%s", msgs.String(), want)
	}
	pc1, err := st.HostByName(ctx, "PC1")
	if err != nil {
		t.Fatal(err)
	}
	if pc1.State != store.StateOK {
		t.Errorf("PC1 state %s after its later success, want ok", pc1.State)
	}
}

// failingReader yields its text, then an error.
type failingReader struct{ r io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("disk on fire")
	}
	return n, err
}

// TestImportCSV_readError ensures an input that fails part way keeps the
// rows read before it, counted, and returns the failure with the last line.
func TestImportCSV_readError(t *testing.T) {
	t.Parallel()
	st := newTestStore(t)
	in := &failingReader{strings.NewReader(hostsHeader + "PC1,,,,,,\nPC2,,,,,,\n")}
	c, err := ImportCSV(t.Context(), st, Hosts, in, CSVOptions{Name: "h.csv"})
	var fe *FileError
	if err == nil || errors.As(err, &fe) || !strings.Contains(err.Error(), "h.csv: read after line 3: disk on fire") {
		t.Errorf("err = %v, want the read failure after line 3", err)
	}
	if c != (Counts{Read: 2, Imported: 2}) {
		t.Errorf("counts = %+v, want both rows imported", c)
	}
	if n, err := st.CountHosts(t.Context()); err != nil || n != 2 {
		t.Errorf("store holds %d hosts (%v), want 2", n, err)
	}
}

// TestImportCSV_repeatedHosts ensures a host given twice in one file is
// found however far apart the rows are (across batches, in any case): the
// same values count as a duplicate, other values are refused with both
// lines, in line order among the other refusals, and nothing is lost.
func TestImportCSV_repeatedHosts(t *testing.T) {
	t.Parallel()
	st := newTestStore(t)
	content := hostsHeader +
		"PC-1,,,,,Pilot,\n" + // line 2
		"PC-2,,,,,,\n" +
		"PC-3,,,,,,\n" +
		"pc-1,,,,,Pilot,\n" + // 5: the same host again, another batch
		"BAD HOST,,,,,,\n" +
		"PC-2,,,,,Broad,\n" + // 7: other values
		"PC-4,,,,,,\n" +
		"PC-4,,,,,Broad,\n" // 9: other values, same batch
	var msgs bytes.Buffer
	c, err := ImportCSV(t.Context(), st, Hosts, strings.NewReader(content), CSVOptions{Name: "h.csv", Batch: 2, Messages: &msgs})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Read: 8, Imported: 4, Duplicate: 1, Rejected: 3}); c != want {
		t.Errorf("counts = %+v, want %+v", c, want)
	}
	want := "h.csv:6: name \"BAD HOST\": has ' ': only letters, digits, hyphens and dots are allowed\n" +
		"h.csv:7: host PC-2 already given at line 3 with different values\n" +
		"h.csv:9: host PC-4 already given at line 8 with different values\n"
	if msgs.String() != want {
		t.Errorf("messages:\n%s\nwant:\n%s", msgs.String(), want)
	}
	for name, group := range map[string]string{"PC-1": "Pilot", "PC-2": "", "PC-4": ""} {
		if h, err := st.HostByName(t.Context(), name); err != nil || h.Group != group {
			t.Errorf("%s = %+v, %v; want group %q", name, h, err, group)
		}
	}
}

// TestImportCSV_groups ensures the optional groups column gives a host
// every WSUS group, the group column's first, and that a file without it
// leaves each host in its group alone.
func TestImportCSV_groups(t *testing.T) {
	t.Parallel()
	st := newTestStore(t)
	ctx := t.Context()
	content := "name,fqdn,address,os,os_build,group,last_report,groups\n" +
		"PC-1,,,,,Broad,,Patch Ring - Early ; Broad;\n" +
		"PC-2,,,,,,,Pilot;Finance\n" +
		"PC-3,,,,,Broad,,\n"
	if c, err := ImportCSV(ctx, st, Hosts, strings.NewReader(content), CSVOptions{Name: "h.csv"}); err != nil || c.Imported != 3 {
		t.Fatalf("import = %+v, %v", c, err)
	}
	for name, want := range map[string][]string{
		"PC-1": {"Broad", "Patch Ring - Early"}, "PC-2": {"Pilot", "Finance"}, "PC-3": {"Broad"},
	} {
		h, err := st.HostByName(ctx, name)
		if err != nil || h.Group != want[0] || strings.Join(h.Groups, "|") != strings.Join(want, "|") {
			t.Errorf("%s: group %q, groups %q, %v; want %q", name, h.Group, h.Groups, err, want)
		}
	}
	content = hostsHeader + "PC-1,,,,,Broad,\n"
	if c, err := ImportCSV(ctx, st, Hosts, strings.NewReader(content), CSVOptions{Name: "h.csv"}); err != nil || c.Updated != 1 {
		t.Fatalf("import without groups = %+v, %v", c, err)
	}
	if h, err := st.HostByName(ctx, "PC-1"); err != nil || len(h.Groups) != 1 {
		t.Errorf("PC-1 after a file without groups: %q, %v", h.Groups, err)
	}
}

// TestImportCSV_tooManyGroups ensures a row in more groups than a host may
// be in (its primary and the others, counted once each whatever their
// case) is refused with its line, and the rows around it still import;
// and that repeats of one group in another case are no excess.
func TestImportCSV_tooManyGroups(t *testing.T) {
	t.Parallel()
	st := newTestStore(t)
	var others []string
	for i := range store.MaxHostGroups {
		others = append(others, fmt.Sprintf("G%02d", i))
	}
	repeats := strings.Repeat("Ring;ring;RING;", store.MaxHostGroups)
	content := "name,fqdn,address,os,os_build,group,last_report,groups\n" +
		"PC-1,,,,,Pilot,,\n" +
		"PC-2,,,,,Primary,," + strings.Join(others, ";") + "\n" + // line 3: the primary makes one too many
		"PC-3,,,,,Pilot,," + strings.TrimSuffix(repeats, ";") + "\n" +
		"PC-4,,,,,Pilot,,\n"
	var msgs bytes.Buffer
	c, err := ImportCSV(t.Context(), st, Hosts, strings.NewReader(content), CSVOptions{Name: "h.csv", Batch: 10, Messages: &msgs})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Read: 4, Imported: 3, Rejected: 1}); c != want {
		t.Errorf("counts = %+v, want %+v\n%s", c, want, msgs.String())
	}
	if !strings.HasPrefix(msgs.String(), "h.csv:3: groups: ") || strings.Count(msgs.String(), "\n") != 1 {
		t.Errorf("messages:\n%s\nwant one refusal of line 3", msgs.String())
	}
	if h, err := st.HostByName(t.Context(), "PC-3"); err != nil || len(h.Groups) != 2 {
		t.Errorf("PC-3 = %+v, %v; want Pilot and Ring", h, err)
	}
}

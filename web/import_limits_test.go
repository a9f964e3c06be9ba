package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestImport_fieldLengths ensures every column has a length limit: a value
// one character over is rejected as FILE:LINE: COLUMN is longer than N
// characters, without the value in the message (a 5 MB caption makes a
// short line), while values at the limits, counted in characters, not
// bytes, are stored whole.
func TestImport_fieldLengths(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "w.db")
	over := func(n int) string { return strings.Repeat("é", n+1) }
	at := func(n int) string { return strings.Repeat("é", n) }
	label := strings.Repeat("a", 63)
	longName := strings.Join([]string{label, label, label, label[:61]}, ".") // 253
	hosts := hostsHeader +
		"PC1,,," + at(1024) + ",," + at(255) + ",\n" +
		"PC2,,," + strings.Repeat("x", 5<<20) + ",,,\n" +
		"PC3,,,,," + over(255) + ",\n" +
		longName + "x,,,,,,\n" +
		"PC5,,,," + strings.Repeat("9", 65) + ",,\n" +
		longName + ",,,,,,\n"
	file := writeCSV(t, "hosts.csv", hosts)
	r := doImport(t, db, "hosts", file)
	checkRowErrors(t, file, r.stderr, []rowError{
		{3, "os is longer than 1024 characters"},
		{4, "group is longer than 255 characters"},
		{5, "name is longer than 253 characters"},
		{6, "os_build is longer than 64 characters"},
	})
	if len(r.stderr) > 1000 {
		t.Errorf("stderr holds %d bytes: a message quotes a rejected value", len(r.stderr))
	}
	st := openTestStore(t, db)
	pc1, err := st.HostByName(t.Context(), "PC1")
	if err != nil || pc1.OSCaption != at(1024) || pc1.Group != at(255) {
		t.Fatalf("PC1 at the limits: caption %d, group %d characters (%v)", len([]rune(pc1.OSCaption)), len([]rune(pc1.Group)), err)
	}
	if _, err := st.HostByName(t.Context(), longName); err != nil {
		t.Errorf("a 253-character name: %v", err)
	}
	st.Close()

	history := "host,time,kb,title,operation,result,hresult,update_id\n" +
		"PC1,2024-05-14,KB5037771," + at(4096) + ",Installation,Failed,0x80070002,\n" +
		"PC1,2024-05-14,KB5037772," + over(4096) + ",Installation,Failed,0x80070002,\n" +
		"PC1,2024-05-14,,,Installation,Failed,0x80070002," + over(255) + "\n" +
		"PC1,2024-05-14,KB5037773,,Installation," + over(32) + ",0x80070002,\n"
	file = writeCSV(t, "history.csv", history)
	r = doImport(t, db, "history", file)
	checkRowErrors(t, file, r.stderr, []rowError{
		{3, "title is longer than 4096 characters"},
		{4, "update_id is longer than 255 characters"},
		{5, "result is longer than 32 characters"},
	})
	if want := file + ": read 4, imported 1, duplicate 0, rejected 3\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
}

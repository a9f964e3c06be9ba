package scripts

import (
	"encoding/json"
	"io/fs"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// recordTypes is the Go type that reads each kind of result line, and the
// types of the records nested in them ("history_entry", "failed_update").
var recordTypes = map[string]reflect.Type{
	KindFacts:            reflect.TypeFor[Facts](),
	KindCheck:            reflect.TypeFor[Check](),
	KindService:          reflect.TypeFor[Service](),
	KindHistory:          reflect.TypeFor[History](),
	KindRename:           reflect.TypeFor[RenameAttempt](),
	KindScan:             reflect.TypeFor[Scan](),
	KindEvidence:         reflect.TypeFor[Evidence](),
	KindFolder:           reflect.TypeFor[Folder](),
	KindComputers:        reflect.TypeFor[ComputerBatch](),
	KindWarning:          reflect.TypeFor[Warning](),
	KindResult:           reflect.TypeFor[Result](),
	"history_entry":      reflect.TypeFor[HistoryEntry](),
	"failed_update":      reflect.TypeFor[FailedUpdate](),
	"inventory_computer": reflect.TypeFor[InventoryComputer](),
}

// jsonKeys lists the JSON names of t's fields, embedded structs' included.
func jsonKeys(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonKeys(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// hashSites are the places the scripts build a result line's fields as a
// hashtable literal, and which record each builds. A script that builds one
// any other way fails TestScriptKeysMatchGo, so none escapes the check.
var hashSites = []struct {
	re     *regexp.Regexp
	record string // "" takes the kind from the first group
}{
	{regexp.MustCompile(`Write-WsusfixLine '(\w+)' \(\[ordered\]@\{`), ""},
	{regexp.MustCompile(`\$fields = \[ordered\]@\{`), KindResult},              // Complete-Wsusfix, through Write-WsusfixLine
	{regexp.MustCompile(`-Extra \(\[ordered\]@\{`), KindResult},                // Complete-Wsusfix -Extra
	{regexp.MustCompile(`\$failed\.Add\(\[ordered\]@\{`), "failed_update"},     // wsus-inventory
	{regexp.MustCompile(`\$batch\.Add\(\[ordered\]@\{`), "inventory_computer"}, // wsus-inventory
	{regexp.MustCompile(`(?s)function ConvertFrom-WsusfixHistoryEntry \{.*?return \[ordered\]@\{`), "history_entry"},
}

// Write-WsusfixLine adds these before the fields it is given.
var lineHeader = []string{"kind", "step", "ts"}

// hashKeys returns the top-level keys of the hashtable literal whose body
// starts at src[0] (just after its "{"), skipping quoted strings and nested
// blocks.
func hashKeys(src string) []string {
	var keys []string
	depth, start := 1, true
	for i := 0; i < len(src) && depth > 0; i++ {
		switch c := src[i]; {
		case c == '\'' || c == '"':
			j := strings.IndexByte(src[i+1:], c)
			if j < 0 {
				return keys
			}
			i += j + 1
			start = false
		case c == '{' || c == '(' || c == '[':
			depth++
			start = false
		case c == '}' || c == ')' || c == ']':
			depth--
			start = false
		case c == ';' || c == '\n':
			start = true
		case start && depth == 1 && (c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'):
			if m := regexp.MustCompile(`^(\w+)\s*=[^=]`).FindStringSubmatch(src[i:]); m != nil {
				keys = append(keys, m[1])
				i += len(m[1])
			}
			start = false
		case c != ' ' && c != '\t' && c != '\r':
			start = false
		}
	}
	return keys
}

// scriptKeys collects, per record, every key any script writes.
func scriptKeys(t *testing.T) map[string]map[string]bool {
	t.Helper()
	got := map[string]map[string]bool{}
	add := func(record string, keys ...string) {
		if got[record] == nil {
			got[record] = map[string]bool{}
		}
		for _, k := range keys {
			got[record][k] = true
		}
	}
	paths, err := fs.Glob(files, "*.ps1")
	if err != nil {
		t.Fatal(err)
	}
	literalCalls := 0
	for _, p := range paths {
		b, err := fs.ReadFile(files, p)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		for _, site := range hashSites {
			for _, m := range site.re.FindAllStringSubmatchIndex(src, -1) {
				record := site.record
				switch {
				case record == "":
					record = src[m[2]:m[3]]
					add(record, lineHeader...)
					literalCalls++
				case strings.HasPrefix(site.re.String(), `\$fields`):
					add(record, lineHeader...)
				}
				add(record, hashKeys(src[m[1]:])...)
			}
		}
		// The bootstrap prints whole lines it cannot build with the prelude.
		for _, m := range regexp.MustCompile(`'WSUSFIX (\{[^']*\})'`).FindAllStringSubmatch(src, -1) {
			var fields map[string]any
			if err := json.Unmarshal([]byte(m[1]), &fields); err != nil {
				t.Fatalf("%s: %v in %s", p, err, m[1])
			}
			kind, _ := fields["kind"].(string)
			for k := range fields {
				add(kind, k)
			}
		}
		calls := strings.Count(src, "Write-WsusfixLine '")
		// Complete-Wsusfix passes its $fields, read above.
		calls -= strings.Count(src, "Write-WsusfixLine 'result' $fields")
		if n := len(regexp.MustCompile(`Write-WsusfixLine '\w+' \(\[ordered\]@\{`).FindAllString(src, -1)); n != calls {
			t.Errorf("%s: %d Write-WsusfixLine calls, %d with a hashtable literal: write the fields as [ordered]@{...} so their keys can be checked", p, calls, n)
		}
	}
	if literalCalls == 0 {
		t.Fatal("found no Write-WsusfixLine call: the patterns no longer match the scripts")
	}
	return got
}

// TestScriptKeysMatchGo ensures every key the scripts write in a result
// line is a JSON field of the Go type that reads it, and every field of
// those types is written by some script: the simulator answers through the
// Go types, so nothing else would notice a misspelt key in a .ps1 file.
func TestScriptKeysMatchGo(t *testing.T) {
	t.Parallel()
	got := scriptKeys(t)
	for record, typ := range recordTypes {
		t.Run(record, func(t *testing.T) {
			want := map[string]bool{}
			for _, k := range jsonKeys(typ) {
				want[k] = true
			}
			var unread, unwritten []string
			for k := range got[record] {
				if !want[k] {
					unread = append(unread, k)
				}
			}
			for k := range want {
				if !got[record][k] {
					unwritten = append(unwritten, k)
				}
			}
			slices.Sort(unread)
			slices.Sort(unwritten)
			if len(unread) > 0 {
				t.Errorf("the scripts write %v, which %s has no field for", unread, typ.Name())
			}
			if len(unwritten) > 0 {
				t.Errorf("%s reads %v, which no script writes", typ.Name(), unwritten)
			}
		})
	}
	for record := range got {
		if recordTypes[record] == nil {
			t.Errorf("the scripts write %q lines, which no Go type reads", record)
		}
	}
}

// TestHashKeys ensures the key reader takes top-level keys only, across
// lines and semicolons, and ignores strings and nested blocks.
func TestHashKeys(t *testing.T) {
	t.Parallel()
	src := "a = 1; b = 'x; c = 2'\n  d = @{ e = 3 }\n f = (g -eq 1)\n h = \"}\" }\n i = 4"
	if got := strings.Join(hashKeys(src), ","); got != "a,b,d,f,h" {
		t.Fatalf("keys %s", got)
	}
}

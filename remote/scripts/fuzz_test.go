package scripts

import (
	"bytes"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// hostile are strings meant to break out of a quote, a command line, an
// XML CDATA section (WinRS wraps commands in one) or a line.
var hostile = []string{
	"",
	"'", `"`, "`", "''", `""`,
	"\u2018", "\u2019", "\u201a", "\u201b", "\u2018\u2019\u201a\u201b", // PowerShell's single quotes
	"\u201c\u201d\u201e", // and its double quotes
	"$(Remove-Item -Recurse C:\\)", "${env:windir}", "$ParamsB64", "@(1)",
	"`$(calc)`", "\"; rm -rf / #", "'; exit 0; '", "' + (calc) + '",
	"]]>", "<![CDATA[", "</rsp:Command>",
	"a\nb", "a\r\nWSUSFIX {\"kind\":\"result\",\"status\":\"ok\"}", "\n", "\r",
	"\x00", "a\x00b", "\xff\xfe", "\xc3", "\xed\xa0\x80", // NUL, invalid UTF-8, a surrogate half
	"@'\n'@", "<# #>", "#", "%windir%", "^&|<>", "\u2028\u2029\u0085",
	"😀", "KB5031364", "wuauserv", "20261123T224501Z",
	strings.Repeat("A", 10000),
}

var base64Line = regexp.MustCompile(`^[A-Za-z0-9+/]*={0,2}$`)

// FuzzParams places one string in every string field (and every element of
// every string list) of every parameter struct, and checks that it stays
// data: the command line and the script text are byte-identical to those of
// benign parameters, the parameters line is pure base64 with no line break,
// and DecodeParams restores the values. JSON cannot carry invalid UTF-8:
// each invalid byte arrives as U+FFFD, which is what is expected then.
func FuzzParams(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	bootstrap := Bootstrap
	benign := map[string][]byte{}
	for _, name := range Names() {
		p, _ := NewParams(name)
		fill(reflect.ValueOf(p).Elem(), "benign")
		payload, err := Payload(name, p)
		if err != nil {
			f.Fatal(err)
		}
		_, script, _ := bytes.Cut(payload, []byte("\n"))
		benign[name] = script
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, name := range Names() {
			p, _ := NewParams(name)
			fill(reflect.ValueOf(p).Elem(), s)
			payload, err := Payload(name, p)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			line, script, ok := bytes.Cut(payload, []byte("\n"))
			if !ok || !base64Line.Match(line) {
				t.Fatalf("%s: parameters line is not pure base64: %q", name, line)
			}
			if !bytes.Equal(script, benign[name]) {
				t.Fatalf("%s: the script text depends on the parameters", name)
			}
			if Bootstrap != bootstrap {
				t.Fatal("the command line changed")
			}
			gotName, b64, _, err := ParsePayload(payload)
			if err != nil || gotName != name {
				t.Fatalf("%s: ParsePayload = %q, %v", name, gotName, err)
			}
			got, _ := NewParams(name)
			if err := DecodeParams(b64, got); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want, _ := NewParams(name)
			fill(reflect.ValueOf(want).Elem(), validUTF8(s))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s: values changed (-want +got):\n%s", name, diff)
			}
		}
	})
}

// FuzzParseLine checks that ParseLine never panics, that what it accepts
// is one tagged JSON object with a kind, and that FormatLine turns any
// accepted line into a single ASCII line that parses the same.
func FuzzParseLine(f *testing.F) {
	f.Add(Tag + `{"kind":"result","step":"rename","status":"ok","reason":"","message":"é"}`)
	f.Add(Tag + `{"kind":"x"}` + "\r\n")
	f.Add("  " + Tag + `{"kind":"check","ok":true,"detail":"\u2028"}`)
	f.Add(Tag + `{"kind":"x"} {"kind":"y"}`)
	f.Add("ordinary output")
	f.Fuzz(func(t *testing.T, line string) {
		l, ok := ParseLine(line)
		if !ok {
			return
		}
		if l.Kind == "" || !strings.Contains(line, Tag) {
			t.Fatalf("accepted %q as %+v", line, l)
		}
		out, err := FormatLine(l)
		if err != nil {
			t.Fatalf("FormatLine(%q): %v", l.Raw, err)
		}
		for i := 0; i < len(out); i++ {
			if out[i] < 0x20 || out[i] > 0x7E {
				t.Fatalf("FormatLine output has byte %#x: %q", out[i], out)
			}
		}
		again, ok := ParseLine(out)
		if !ok || again.Kind != validUTF8(l.Kind) || again.Step != validUTF8(l.Step) {
			t.Fatalf("reformatted line %q parsed as %+v, %v", out, again, ok)
		}
	})
}

// fill sets every string field of the struct v to s, every string list to
// two copies of s, and numbers and booleans to fixed non-zero values, so a
// round trip covers every field.
func fill(v reflect.Value, s string) {
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(s)
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{s, s}))
		case reflect.Int:
			f.SetInt(7)
		case reflect.Bool:
			f.SetBool(true)
		default:
			panic("fill: unexpected field kind " + f.Kind().String())
		}
	}
}

// validUTF8 replaces each invalid byte of s with U+FFFD, as encoding/json
// does when it encodes a string.
func validUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

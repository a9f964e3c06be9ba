package scripts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Tag starts every result line: "WSUSFIX " and then one JSON object.
const Tag = "WSUSFIX "

// Line is one result line. Kind says which record type the line holds (one
// of the Kind* constants) and Raw keeps the whole JSON object, so Decode can
// read it into that type: Check for KindCheck, Result for KindResult, and
// so on.
type Line struct {
	// Kind is one of the Kind* constants.
	Kind string `json:"kind"`
	// Step is the name of the script that printed the line, or "bootstrap"
	// for the few lines the bootstrap prints itself.
	Step string `json:"step"`
	// TS is when the host printed the line, UTC "2006-01-02T15:04:05Z";
	// empty for the bootstrap's lines.
	TS string `json:"ts,omitempty"`
	// Raw is the JSON object as printed, without the tag.
	Raw json.RawMessage `json:"-"`
}

// Decode reads the line's JSON into v, a pointer to the record type of the
// line's Kind.
func (l Line) Decode(v any) error {
	if err := json.Unmarshal(l.Raw, v); err != nil {
		return fmt.Errorf("scripts: decode %s line: %w", l.Kind, err)
	}
	return nil
}

// ParseLine recognises a result line. It accepts leading spaces and tabs and
// a trailing CR or LF (WinRM output has CRLF line ends), then requires Tag
// and exactly one JSON object with a non-empty string "kind". Anything else,
// including a tagged line whose JSON is malformed, cut short or followed by
// more text, is an ordinary output line, for which it returns false.
func ParseLine(line string) (Line, bool) {
	s := strings.TrimLeft(line, " \t")
	s = strings.TrimPrefix(s, "\ufeff") // a byte-order mark before the first line
	s = strings.TrimRight(s, "\r\n")
	body, ok := strings.CutPrefix(s, Tag)
	if !ok || !strings.HasPrefix(body, "{") {
		return Line{}, false
	}
	// One line is one line: a line break inside would mean the caller did
	// not split the output, and JSON would accept it as whitespace.
	if strings.ContainsAny(body, "\r\n") || !json.Valid([]byte(body)) {
		return Line{}, false
	}
	var l Line
	if err := json.Unmarshal([]byte(body), &l); err != nil || l.Kind == "" {
		return Line{}, false
	}
	l.Raw = json.RawMessage(body)
	return l, true
}

// FormatLine returns the result line for v, without a line ending, in the
// format of the prelude's emitter: Tag, then v as compact JSON with the
// fields in struct order, escaped to ASCII the same way (Go's escapes for
// '"', '\' and control characters, \u00XX-style lower-case escapes for
// 0x7F and above, surrogate pairs beyond U+FFFF). v must encode to a JSON
// object; a Line is printed from its Raw. The record types declare their
// fields in the order the scripts print them and, where a script prints an
// empty list as [], expect an empty slice rather than nil.
func FormatLine(v any) (string, error) {
	var raw []byte
	switch l := v.(type) {
	case Line:
		raw = l.Raw
	case *Line:
		raw = l.Raw
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		// The prelude writes < > & as they are.
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return "", fmt.Errorf("scripts: format line: %w", err)
		}
		raw = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	if len(raw) == 0 || raw[0] != '{' || !json.Valid(raw) {
		return "", errors.New("scripts: format line: not a JSON object")
	}
	// A Line's Raw may carry spaces between tokens; the emitter never does.
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return "", fmt.Errorf("scripts: format line: %w", err)
	}
	return Tag + asciiJSON(compact.Bytes()), nil
}

// asciiJSON escapes every character of valid JSON from 0x7F up as \uxxxx.
// Such characters can only occur inside strings, where the escape means the
// same; line breaks are already escaped by the encoder.
func asciiJSON(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r < 0x7F:
			sb.WriteByte(byte(r))
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&sb, `\u%04x\u%04x`, hi, lo)
		default:
			// utf8.RuneError here stands for an invalid byte, which the
			// encoder never produces; escaping it as U+FFFD matches
			// what the encoder does with invalid input.
			fmt.Fprintf(&sb, `\u%04x`, r)
		}
	}
	return sb.String()
}

// BootstrapStep is the Step of the few lines the bootstrap prints itself.
const BootstrapStep = "bootstrap"

// StepResult is how a step's run ended, read from its lines: the step's
// own last result line, else the bootstrap's own failure or refusal (which
// proves the step never ran). Without either nothing proves the step ran,
// whatever its exit code, and it reports false; callers treat that as a
// failure (ReasonNoResult). Lines naming other steps are never believed.
func StepResult(step string, lines []Line) (Result, bool) {
	for _, want := range []string{step, BootstrapStep} {
		for i := len(lines) - 1; i >= 0; i-- {
			var r Result
			if lines[i].Kind != KindResult || lines[i].Step != want || lines[i].Decode(&r) != nil || r.Step != want {
				continue
			}
			if want == step || r.Status != StatusOK {
				return r, true
			}
		}
	}
	return Result{}, false
}

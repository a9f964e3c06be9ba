package sim

import (
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// codePageUTF8 is the WINRS_CODEPAGE masterzen/winrm asks for, and the one
// under which a shell's output is UTF-8 as the process wrote it (capture
// test_winrs_unicode.yml: こんにちは arrives as UTF-8 bytes).
const codePageUTF8 = 65001

// codePageOEM is the console code page a shell gets without WINRS_CODEPAGE:
// the OEM code page of an en-US Windows, 437. pywinrm asks for 437 by
// default (Protocol.open_shell, codepage=437) for the same reason.
const codePageOEM = 437

// oemCodePages are the single-byte console code pages the simulator can
// encode output in; a shell may ask for any of them.
var oemCodePages = map[int]*charmap.Charmap{
	437:  charmap.CodePage437,
	850:  charmap.CodePage850,
	852:  charmap.CodePage852,
	866:  charmap.CodePage866,
	1252: charmap.Windows1252,
}

// shellCodePage reads a Create's WINRS_CODEPAGE. A value that is no code
// page the simulator knows is refused with the invalid-parameter fault;
// that Windows answers an unknown code page so is an assumption, not
// something a capture shows.
func shellCodePage(value string) (int, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return codePageOEM, true
	}
	n, err := strconv.Atoi(value)
	if err != nil {
		return 0, false
	}
	if _, ok := oemCodePages[n]; ok || n == codePageUTF8 {
		return n, true
	}
	return 0, false
}

// consoleWriter encodes what a program writes (UTF-8 here) in the shell's
// code page, as a Windows console does: under an OEM code page, characters
// it lacks become '?', and the rest arrive as OEM bytes a UTF-8 reader
// cannot decode, which is how non-ASCII output looks garbled to a client
// that did not ask for 65001.
func consoleWriter(w io.Writer, codePage int) io.Writer {
	cm := oemCodePages[codePage]
	if cm == nil {
		return w
	}
	return &oemWriter{w: w, cm: cm}
}

// oemWriter is consoleWriter for a single-byte code page.
type oemWriter struct {
	w  io.Writer
	cm *charmap.Charmap
}

// Write encodes p rune by rune and passes it on as one write.
func (o *oemWriter) Write(p []byte) (int, error) {
	out := make([]byte, 0, len(p))
	for rest := p; len(rest) > 0; {
		r, size := utf8.DecodeRune(rest)
		rest = rest[size:]
		b, ok := o.cm.EncodeRune(r)
		if !ok {
			b = '?'
		}
		out = append(out, b)
	}
	if _, err := o.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

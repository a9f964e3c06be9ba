package remote

import (
	"bytes"
	"encoding/xml"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// Stream names for output lines.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// Lines turns a command's byte streams into readable lines and hands each
// complete line to emit, in order per stream. It decodes UTF-16 output
// (sfc, some native tools), and PowerShell's CLIXML error records on
// stderr into their text. Safe for concurrent use: both streams may be
// written from different goroutines.
type Lines struct {
	mu   sync.Mutex
	emit func(stream, line string)
	bufs map[string]*streamBuf
}

type streamBuf struct {
	pending []byte
	utf16   bool
	decided bool
}

// NewLines returns a line splitter calling emit for each line.
func NewLines(emit func(stream, line string)) *Lines {
	return &Lines{emit: emit, bufs: map[string]*streamBuf{}}
}

// Writer returns an io.Writer for one stream.
func (l *Lines) Writer(stream string) *StreamWriter { return &StreamWriter{l: l, stream: stream} }

// StreamWriter is one stream of a Lines.
type StreamWriter struct {
	l      *Lines
	stream string
}

// Write accepts any chunking of the stream.
func (w *StreamWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	b := w.l.buf(w.stream)
	b.pending = append(b.pending, p...)
	if !b.decided && len(b.pending) >= 4 {
		b.utf16, b.decided = looksUTF16(b.pending), true
	}
	w.l.drain(w.stream, b, false)
	return len(p), nil
}

// Flush emits any last line without a newline. Call it when the command ends.
func (l *Lines) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, b := range l.bufs {
		l.drain(name, b, true)
	}
}

func (l *Lines) buf(stream string) *streamBuf {
	b, ok := l.bufs[stream]
	if !ok {
		b = &streamBuf{}
		l.bufs[stream] = b
	}
	return b
}

// drain emits the complete lines of b (all of it when final).
func (l *Lines) drain(stream string, b *streamBuf, final bool) {
	data := b.pending
	if b.utf16 {
		// Cut after the last whole UTF-16 newline; keep the rest for later.
		end := len(data)
		if !final {
			end = 0
			for i := len(data)&^1 - 2; i >= 0; i -= 2 {
				if data[i] == '\n' && data[i+1] == 0 {
					end = i + 2
					break
				}
			}
		}
		text := decodeUTF16(data[:end&^1])
		b.pending = append([]byte(nil), data[end&^1:]...)
		l.splitText(stream, text, true)
		return
	}
	i := bytes.LastIndexByte(data, '\n')
	if final {
		i = len(data) - 1
	}
	if i < 0 {
		return
	}
	chunk := string(data[:i+1])
	b.pending = append([]byte(nil), data[i+1:]...)
	l.splitText(stream, chunk, true)
}

func (l *Lines) splitText(stream, text string, final bool) {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	for len(text) > 0 {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			if !final {
				return
			}
			l.emitLine(stream, text)
			return
		}
		l.emitLine(stream, text[:i])
		text = text[i+1:]
	}
}

// emitLine strips the CR, decodes CLIXML, and emits.
func (l *Lines) emitLine(stream, line string) {
	line = strings.TrimRight(line, "\r")
	if stream == Stderr {
		if line == "#< CLIXML" {
			return
		}
		if strings.HasPrefix(line, "<Objs ") {
			for _, s := range DecodeCLIXML(line) {
				l.emit(stream, s)
			}
			return
		}
	}
	l.emit(stream, line)
}

// looksUTF16 guesses UTF-16LE from a BOM or from zero high bytes in ASCII text.
func looksUTF16(b []byte) bool {
	if len(b) >= 2 && b[0] == 0xFF && b[1] == 0xFE {
		return true
	}
	zeros := 0
	n := min(len(b), 64) &^ 1
	for i := 1; i < n; i += 2 {
		if b[i] == 0 && b[i-1] != 0 {
			zeros++
		}
	}
	return n >= 4 && zeros*2 >= n/2
}

func decodeUTF16(b []byte) string {
	if len(b) >= 2 && b[0] == 0xFF && b[1] == 0xFE {
		b = b[2:]
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}

// clixmlEscape matches PowerShell's _xHHHH_ escapes in CLIXML strings.
var clixmlEscape = regexp.MustCompile(`_x([0-9A-Fa-f]{4})_`)

// DecodeCLIXML extracts the text of the error (and warning, verbose…)
// records in a serialised PowerShell stream, one line per line of text.
// Progress records are dropped: they are noise in a log.
func DecodeCLIXML(doc string) []string {
	type str struct {
		S    string `xml:"S,attr"`
		Text string `xml:",chardata"`
	}
	var objs struct {
		S []str `xml:"S"`
	}
	if err := xml.Unmarshal([]byte(doc), &objs); err != nil {
		return []string{doc}
	}
	var text strings.Builder
	for _, s := range objs.S {
		if s.S == "progress" {
			continue
		}
		text.WriteString(clixmlEscape.ReplaceAllStringFunc(s.Text, func(m string) string {
			n, _ := strconv.ParseUint(m[2:6], 16, 16)
			return string(rune(n))
		}))
	}
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(text.String(), "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) != "" {
			out = append(out, strings.TrimRight(line, "\r"))
		}
	}
	return out
}

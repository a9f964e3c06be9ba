package repair

import (
	"fmt"
	"unicode/utf8"
)

// What one step may leave in the run log. A host's output is its own to
// choose: without bounds a broken or hostile host could fill the database
// and every watcher's browser. The procedure's own scripts print a few
// hundred lines; history pages, the longest result lines, stay under
// 100 KB each.
const (
	maxLineText    = 8 << 10 // characters of one line for people; longer ones are cut
	maxStepOutput  = 4 << 20 // bytes of lines for people stored per step
	maxResultLines = 10_000  // result lines read per step
	maxResultLine  = 1 << 20 // bytes of one result line; longer ones are not read
	cutMark        = " […]"  // ends a line that was cut
)

// budget keeps one step's output within those bounds and counts what it
// left out. Not safe for concurrent use; Lines calls it under its lock.
type budget struct {
	stored        int
	results       int
	droppedLines  int
	droppedResult int
}

// text returns line as it may be stored (cut to maxLineText), or false
// once the step's share is spent.
func (b *budget) text(line string) (string, bool) {
	if len(line) > maxLineText {
		cut := maxLineText
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		line = line[:cut] + cutMark
	}
	if b.stored+len(line) > maxStepOutput {
		b.droppedLines++
		return "", false
	}
	b.stored += len(line)
	return line, true
}

// result reports whether one more result line of n bytes may be read.
func (b *budget) result(n int) bool {
	if n > maxResultLine || b.results >= maxResultLines {
		b.droppedResult++
		return false
	}
	b.results++
	return true
}

// note says what was left out, or "" when nothing was.
func (b *budget) note() string {
	if b.droppedLines == 0 && b.droppedResult == 0 {
		return ""
	}
	return fmt.Sprintf("wsusfix kept the first %d MiB of this step's output: %d more lines and %d result lines were not stored",
		maxStepOutput>>20, b.droppedLines, b.droppedResult)
}

package store

import (
	"strconv"
	"strings"

	"wsusfix/store/run"
)

// The bulk insert of history binds as few values as it can: the driver
// binds, and later clears, every parameter by a call of its own, which
// cost a third of an import. An entry's operation, result, source, HRESULT
// and host travel packed in one integer, its update ID not at all when
// every entry of the chunk has the KB for one (NULL for the KB otherwise),
// and SQL unpacks them. An entry whose words are not the known ones (only
// a caller outside ingest could give one) or whose host's id is too large
// to pack sends its chunk unpacked instead, exactly as given.

// eventShape is how a chunk of history entries travels to SQL.
type eventShape int

const (
	shapeWords    eventShape = iota // every value as given, nine an entry
	shapePacked                     // packed, with the update ID or NULL for the KB: five an entry
	shapePackedKB                   // packed, every update ID the KB: four an entry
)

// maxPackedHost bounds the host ids packed: the bits above the words.
const maxPackedHost = 1<<19 - 1

var (
	operations = []string{"Installation", "Uninstallation"}
	sources    = []string{SourceWSUS, SourceHost, SourceImport, SourceRepair}
)

// code returns w's position in words from 1, or 0.
func code(w string, words []string) int64 {
	for i, v := range words {
		if v == w {
			return int64(i + 1)
		}
	}
	return 0
}

// resultWords is run.UpdateResults as strings.
var resultWords = func() []string {
	out := make([]string, len(run.UpdateResults))
	for i, r := range run.UpdateResults {
		out[i] = string(r)
	}
	return out
}()

// packWords packs an entry's words, HRESULT and host id, or reports that
// a word is not a known one or the id too large.
func packWords(e EventInput, hostID int64) (int64, bool) {
	op, res, src := code(e.Operation, operations), code(string(e.Result), resultWords), code(e.Source, sources)
	if op == 0 || res == 0 || src == 0 || hostID < 0 || hostID > maxPackedHost {
		return 0, false
	}
	return int64(e.HResult) | op<<32 | res<<36 | src<<40 | hostID<<44, true
}

// kbIsUpdate reports whether e's update ID is its KB.
func kbIsUpdate(e EventInput) bool { return e.UpdateID == "" || e.UpdateID == e.KB }

// shapeOf is the shape the entries in[i] for i in chunk, whose hosts are
// ids, travel in; with ids nil, the one they would if their hosts' ids
// pack.
func shapeOf(in []EventInput, chunk []int, ids []int64) eventShape {
	shape := shapePackedKB
	for k, i := range chunk {
		var id int64
		if ids != nil {
			id = ids[k]
		}
		if _, ok := packWords(in[i], id); !ok {
			return shapeWords
		}
		if !kbIsUpdate(in[i]) {
			shape = shapePacked
		}
	}
	return shape
}

// unpack is the SQL that turns a packed column back into a word.
func unpack(col string, shift int, words []string) string {
	var b strings.Builder
	b.WriteString("CASE (" + col + " >> " + strconv.Itoa(shift) + ") & 15")
	for i, w := range words {
		b.WriteString(" WHEN " + strconv.Itoa(i+1) + " THEN '" + w + "'")
	}
	b.WriteString(" END")
	return b.String()
}

// historyArgs returns the INSERT of in[i] for i in chunk, whose hosts are
// ids, and its arguments appended to args.
func historyArgs(in []EventInput, chunk []int, ids []int64, args []any) (string, []any) {
	shape := shapeOf(in, chunk, ids)
	for k, i := range chunk {
		e := in[i]
		switch shape {
		case shapeWords:
			updateID := e.UpdateID
			if updateID == "" {
				updateID = e.KB
			}
			args = append(args, ids[k], e.At.UnixMilli(), updateID, e.KB, e.Title, e.Operation, string(e.Result),
				int64(e.HResult), e.Source)
		case shapePacked:
			var updateID any // NULL: the KB
			if !kbIsUpdate(e) {
				updateID = e.UpdateID
			}
			p, _ := packWords(e, ids[k])
			args = append(args, e.At.UnixMilli(), updateID, e.KB, e.Title, p)
		default:
			p, _ := packWords(e, ids[k])
			args = append(args, e.At.UnixMilli(), e.KB, e.Title, p)
		}
	}
	return insertEventsSQL(len(chunk), shape), args
}

// insertEventsSQL is the INSERT of n history entries of the given shape.
// Plain ? only: the driver looks each named or numbered parameter's name
// up in a list as long as the statement's, once per parameter.
func insertEventsSQL(n int, shape eventShape) string {
	head := "INSERT INTO update_events (host_id, at, update_id, kb, title, operation, result, hresult, source) "
	// A VALUES list names its columns column1, column2, …; WHERE true tells
	// the parser the ON CONFLICT is the upsert's, not a join's.
	var row, tail string
	switch shape {
	case shapeWords:
		row, head = "(?, ?, ?, ?, ?, ?, ?, ?, ?)", head+"VALUES "
	case shapePacked: // at, the update ID or NULL for the KB, KB, title, packed
		row, tail = "(?, ?, ?, ?, ?)", ") WHERE true"
		head += "SELECT column5 >> 44, column1, ifnull(column2, column3), column3, column4, " + unpacked("column5") + " FROM (VALUES "
	case shapePackedKB: // at, KB (the update ID too), title, packed
		row, tail = "(?, ?, ?, ?)", ") WHERE true"
		head += "SELECT column4 >> 44, column1, column2, column2, column3, " + unpacked("column4") + " FROM (VALUES "
	}
	var b strings.Builder
	b.Grow(n*(len(row)+1) + len(head) + 64)
	b.WriteString(head)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(tail)
	b.WriteString(" ON CONFLICT DO NOTHING")
	return b.String()
}

// unpacked is the operation, result, HRESULT and source packed in col
// (packWords), as SQL.
func unpacked(col string) string {
	return unpack(col, 32, operations) + ", " + unpack(col, 36, resultWords) + ", " + col + " & 4294967295, " + unpack(col, 40, sources)
}

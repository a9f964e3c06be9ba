package store

import (
	"strconv"
	"strings"

	"wsusfix/store/run"
)

// The bulk insert of history binds as few values as it can: the driver
// binds, and later clears, every parameter by a call of its own, which
// cost a third of an import. An entry's operation, result, source and
// HRESULT travel packed in one integer, its update ID as NULL when it is
// the KB, and SQL unpacks them. An entry whose words are not the known
// ones (only a caller outside ingest could give one) sends its chunk
// unpacked instead, exactly as given.

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

// packWords packs an entry's words and HRESULT, or reports that a word is
// not a known one.
func packWords(e EventInput) (int64, bool) {
	op, res, src := code(e.Operation, operations), code(string(e.Result), resultWords), code(e.Source, sources)
	if op == 0 || res == 0 || src == 0 {
		return 0, false
	}
	return int64(e.HResult) | op<<32 | res<<36 | src<<40, true
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
	packed := true
	for _, i := range chunk {
		if _, ok := packWords(in[i]); !ok {
			packed = false
			break
		}
	}
	for k, i := range chunk {
		e := in[i]
		if !packed {
			updateID := e.UpdateID
			if updateID == "" {
				updateID = e.KB
			}
			args = append(args, ids[k], e.At.UnixMilli(), updateID, e.KB, e.Title, e.Operation, string(e.Result),
				int64(e.HResult), e.Source)
			continue
		}
		var updateID any // NULL: the KB
		if e.UpdateID != "" && e.UpdateID != e.KB {
			updateID = e.UpdateID
		}
		p, _ := packWords(e)
		args = append(args, ids[k], e.At.UnixMilli(), updateID, e.KB, e.Title, p)
	}
	return insertEventsSQL(len(chunk), packed), args
}

// insertEventsSQL is the INSERT of n history entries, packed (six values
// each, see historyArgs) or not (nine). Plain ? only: the driver looks each
// named or numbered parameter's name up in a list as long as the
// statement's, once per parameter.
func insertEventsSQL(n int, packed bool) string {
	row := "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
	head := "INSERT INTO update_events (host_id, at, update_id, kb, title, operation, result, hresult, source) "
	var b strings.Builder
	if packed {
		row = "(?, ?, ?, ?, ?, ?)"
		// A VALUES list names its columns column1, column2, …; WHERE true
		// tells the parser the ON CONFLICT is the upsert's, not a join's.
		head += "SELECT column1, column2, ifnull(column3, column4), column4, column5, " +
			unpack("column6", 32, operations) + ", " + unpack("column6", 36, resultWords) + ", " +
			"column6 & 4294967295, " + unpack("column6", 40, sources) + " FROM (VALUES "
	} else {
		head += "VALUES "
	}
	b.Grow(n*(len(row)+1) + len(head) + 64)
	b.WriteString(head)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	if packed {
		b.WriteString(") WHERE true")
	}
	b.WriteString(" ON CONFLICT DO NOTHING")
	return b.String()
}

// Package ingest turns inventory and Windows Update history from outside
// sources into store writes: CSV files (ImportCSV) and records another
// package has already parsed, such as the WSUS sync's (HostWriter,
// HistoryWriter). Both paths validate every field with the same functions
// and write through the same batched upserts, so a record is accepted or
// refused for the same reason whichever way it arrives.
//
// It owns the domain forms of a record (host names, addresses, OS builds,
// KBs, HRESULTs, times, operation and result names, field lengths) and how
// a refused record is reported. It writes only through *store.Store, holds
// no package-level mutable state, and knows nothing of HTTP, WinRM or the
// command line.
package ingest

// DefaultBatch is the number of records stored per transaction unless a
// caller asks for another. Every commit writes each page the transaction
// changed to the WAL and syncs it; history in date order changes index
// pages all over the table in every batch, so fewer, larger batches write
// far less (a 1,000,000-row history by date imports in about 22 s instead
// of 31 s with 5,000), at a few MB of memory for the queue.
const DefaultBatch = 20000

// Counts says what an ingest did with its records.
type Counts struct {
	Read      int // records offered: rows after the header, or calls to Add
	Imported  int // hosts or history entries new to the store
	Updated   int // hosts whose stored values changed (hosts only)
	Duplicate int // records already stored, or repeated within the input
	Rejected  int // records refused, each one reported
}

// Rejection is one refused record. Ref is the caller's reference for it
// (ImportCSV passes the physical line), and Reason says why, in words fit
// for a person, without quoting a value longer than its field allows.
type Rejection struct {
	Ref    int
	Reason string
}

// RejectFunc receives each record a writer refuses, in the order the
// writer finds them; it is called on the goroutine that called the writer.
type RejectFunc func(Rejection)

package ingest

// batch is the queue a writer fills with valid records and stores a batch
// at a time, with what the writer counted and the store's failure.
type batch[T any] struct {
	size   int
	reject RejectFunc
	queue  []T
	refs   []int // the caller's ref of each queued record
	counts Counts
	err    error // the store's failure, after which nothing more is written
}

// newBatch returns a batch of size records (DefaultBatch when size is less
// than 1) that reports refusals to reject, which may be nil.
func newBatch[T any](size int, reject RejectFunc) batch[T] {
	if size < 1 {
		size = DefaultBatch
	}
	return batch[T]{size: size, reject: reject}
}

// refuse counts a refused record and reports it.
func (b *batch[T]) refuse(ref int, reason string) {
	b.counts.Rejected++
	if b.reject != nil {
		b.reject(Rejection{Ref: ref, Reason: reason})
	}
}

// push queues a valid record and reports whether the queue now holds a
// batch.
func (b *batch[T]) push(rec T, ref int) bool {
	b.queue = append(b.queue, rec)
	b.refs = append(b.refs, ref)
	return len(b.queue) >= b.size
}

// stored empties the queue once the store has taken it, letting go of the
// records' strings so a batch does not pin its input.
func (b *batch[T]) stored() {
	clear(b.queue)
	b.queue, b.refs = b.queue[:0], b.refs[:0]
}

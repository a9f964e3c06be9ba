package sim

import (
	"context"
	"io"
	"sync"
)

// Buffer limits: a command blocks writing once this much output is unread
// (like a full pipe), and stdin a client may queue ahead of a command.
const (
	maxPendingOutput = 1 << 20
	maxChunk         = 64 << 10
	maxStdin         = 32 << 20
)

// chunk is a run of bytes written to one stream.
type chunk struct {
	stream string // "stdout" or "stderr"
	data   []byte
}

// outState is what a Receive found in an output buffer.
type outState int

const (
	outWait    outState = iota // nothing to send yet: wait for wake
	outRunning                 // output to send, the command is still running
	outDone                    // the command has ended and all output is taken
	outDrop                    // drop the connection (FaultDropConnection)
)

// outputBuffer holds a command's unread output between the command's writes
// and the client's Receives. It is safe for concurrent use.
type outputBuffer struct {
	mu       sync.Mutex
	chunks   []chunk
	pending  int
	done     bool
	exitCode int
	wake     chan struct{} // closed and replaced on every change
	stop     <-chan struct{}

	timeoutsLeft int  // Receives still to answer TimedOut (FaultReceiveTimeout)
	delivered    bool // some output went out (FaultDropConnection drops after that)
}

func newOutputBuffer(ctx context.Context) *outputBuffer {
	return &outputBuffer{wake: make(chan struct{}), stop: ctx.Done()}
}

// broadcast wakes every waiter; the caller holds mu.
func (b *outputBuffer) broadcast() {
	close(b.wake)
	b.wake = make(chan struct{})
}

// write appends one write of a stream as a chunk of its own: Windows sends
// one rsp:Stream element per write of the process (Write-Host's text and
// its newline are two elements in test_winrs_send.yml and
// test_winrs_unicode.yml), so a line may reach the client in pieces.
func (b *outputBuffer) write(stream string, p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.pending > maxPendingOutput && !b.done {
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-b.stop:
			b.mu.Lock()
			return 0, io.ErrClosedPipe
		}
		b.mu.Lock()
	}
	if b.done {
		return 0, io.ErrClosedPipe
	}
	total := len(p)
	for len(p) > 0 {
		n := min(len(p), maxChunk)
		b.chunks = append(b.chunks, chunk{stream: stream, data: append([]byte(nil), p[:n]...)})
		p = p[n:]
	}
	b.pending += total
	b.broadcast()
	return total, nil
}

// finish records the exit code; later writes fail.
func (b *outputBuffer) finish(code int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done, b.exitCode = true, code
	b.broadcast()
}

func (b *outputBuffer) exit() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.exitCode
}

// forcedTimeout reports (and uses up) one Receive that must time out.
func (b *outputBuffer) forcedTimeout() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.timeoutsLeft > 0 {
		b.timeoutsLeft--
		return true
	}
	return false
}

// take removes up to budget bytes of output for one Receive. With drop set
// it never reports completion: pending output still goes out, but once
// there is none and some has gone out, or the command has ended, the answer
// is to drop the connection. When there is nothing to send it returns
// outWait and a channel closed on the next change.
func (b *outputBuffer) take(budget int, drop bool) ([]chunk, outState, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if drop && len(b.chunks) == 0 && (b.delivered || b.done) {
		return nil, outDrop, nil
	}
	if len(b.chunks) == 0 && !b.done {
		return nil, outWait, b.wake
	}
	budget = max(budget, 1024)
	var out []chunk
	for len(b.chunks) > 0 && budget > 0 {
		c := &b.chunks[0]
		n := min(len(c.data), budget)
		out = append(out, chunk{stream: c.stream, data: c.data[:n]})
		budget -= n + 200 // markup of one rsp:Stream element
		b.pending -= n
		if n == len(c.data) {
			b.chunks = b.chunks[1:]
		} else {
			c.data = c.data[n:]
		}
	}
	b.delivered = true
	b.broadcast() // a writer may be waiting for room
	if b.done && len(b.chunks) == 0 && !drop {
		return out, outDone, nil
	}
	return out, outRunning, nil
}

// streamWriter is the io.Writer a command gets for one stream.
type streamWriter struct {
	b      *outputBuffer
	stream string
}

// Write appends p to the stream; see outputBuffer.write.
func (w streamWriter) Write(p []byte) (int, error) { return w.b.write(w.stream, p) }

// stdinBuffer queues what the client Sends until the command reads it. Send
// never blocks on a command that does not read, as with Windows' own
// buffering. It is safe for concurrent use.
type stdinBuffer struct {
	mu   sync.Mutex
	buf  []byte
	eof  bool
	wake chan struct{}
	stop <-chan struct{}
}

func newStdinBuffer(ctx context.Context) *stdinBuffer {
	return &stdinBuffer{wake: make(chan struct{}), stop: ctx.Done()}
}

// push queues data and, with end, the end of input. It reports false when
// the queue would exceed maxStdin. Data after the end is ignored.
func (b *stdinBuffer) push(data []byte, end bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.eof {
		return true
	}
	if len(b.buf)+len(data) > maxStdin {
		return false
	}
	b.buf = append(b.buf, data...)
	b.eof = end
	close(b.wake)
	b.wake = make(chan struct{})
	return true
}

// Read blocks until input, the end of input, or the command's end.
func (b *stdinBuffer) Read(p []byte) (int, error) {
	for {
		b.mu.Lock()
		if len(b.buf) > 0 {
			n := copy(p, b.buf)
			b.buf = b.buf[n:]
			b.mu.Unlock()
			return n, nil
		}
		if b.eof {
			b.mu.Unlock()
			return 0, io.EOF
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-b.stop:
			return 0, io.ErrClosedPipe
		}
	}
}

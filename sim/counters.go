package sim

import "sync/atomic"

// Action names used as keys of Counters.Requests.
const (
	ActionCreate  = "Create"
	ActionCommand = "Command"
	ActionSend    = "Send"
	ActionReceive = "Receive"
	ActionSignal  = "Signal"
	ActionDelete  = "Delete"
	ActionOther   = "Other" // unknown actions and unparsable envelopes
)

var actionNames = []string{ActionCreate, ActionCommand, ActionSend, ActionReceive, ActionSignal, ActionDelete, ActionOther}

// actionIndex maps an action URI to its slot in hostCounters.requests.
func actionIndex(uri string) int {
	switch uri {
	case actionCreate:
		return 0
	case actionCommand:
		return 1
	case actionSend:
		return 2
	case actionReceive:
		return 3
	case actionSignal:
		return 4
	case actionDelete:
		return 5
	}
	return 6
}

// actionName is the short name of an action URI, for Counters.Requests.
func actionName(uri string) string { return actionNames[actionIndex(uri)] }

// Counters is a snapshot of what a host (or the whole fleet) was asked and
// answered since the Server started. Tests and benchmarks read it to check
// how a client behaved, e.g. how many Receives a long command took.
type Counters struct {
	// Requests counts authenticated SOAP requests by action (ActionCreate,
	// ActionReceive, ...); actions never seen are absent.
	Requests      map[string]int64
	ShellsOpen    int64 // shells open now
	ShellsCreated int64 // shells ever created
	Unauthorized  int64 // HTTP 401 answers, including NTLM challenges
	Faults        int64 // SOAP faults answered (HTTP 500), TimedOut included
	TimedOut      int64 // Receives answered with the TimedOut fault
	Dropped       int64 // connections closed without an answer
}

// hostCounters is the live, lock-free form of Counters for one host.
type hostCounters struct {
	requests      [7]atomic.Int64
	shellsCreated atomic.Int64
	unauthorized  atomic.Int64
	faults        atomic.Int64
	timedOut      atomic.Int64
	dropped       atomic.Int64
}

func (c *hostCounters) snapshot(open int) Counters {
	out := Counters{
		Requests:      map[string]int64{},
		ShellsOpen:    int64(open),
		ShellsCreated: c.shellsCreated.Load(),
		Unauthorized:  c.unauthorized.Load(),
		Faults:        c.faults.Load(),
		TimedOut:      c.timedOut.Load(),
		Dropped:       c.dropped.Load(),
	}
	for i := range c.requests {
		if n := c.requests[i].Load(); n > 0 {
			out.Requests[actionNames[i]] = n
		}
	}
	return out
}

// add accumulates o into c.
func (c *Counters) add(o Counters) {
	if c.Requests == nil {
		c.Requests = map[string]int64{}
	}
	for k, v := range o.Requests {
		c.Requests[k] += v
	}
	c.ShellsOpen += o.ShellsOpen
	c.ShellsCreated += o.ShellsCreated
	c.Unauthorized += o.Unauthorized
	c.Faults += o.Faults
	c.TimedOut += o.TimedOut
	c.Dropped += o.Dropped
}

// Counters returns a snapshot of one host's counters (by short name or FQDN,
// case-insensitive); an unknown name gives zero counters.
func (s *Server) Counters(name string) Counters {
	h := s.lookup(name)
	if h == nil {
		return Counters{Requests: map[string]int64{}}
	}
	return h.counters()
}

// TotalCounters returns the sum of every host's counters.
func (s *Server) TotalCounters() Counters {
	total := Counters{Requests: map[string]int64{}}
	for _, h := range s.hosts {
		total.add(h.counters())
	}
	return total
}

func (h *host) counters() Counters {
	h.mu.Lock()
	open := len(h.shells)
	h.mu.Unlock()
	return h.ctr.snapshot(open)
}

package wsus

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"wsusfix/store"
)

// DefaultFullEvery is how often the schedule turns an incremental sync
// into a full reconcile: daily, so computers removed from WSUS are marked
// gone within a day, and well inside the 15 days after which WSUS deletes
// client events (ClientEventExpirationTime).
const DefaultFullEvery = 24 * time.Hour

// ErrBusy is returned by Start while a sync is running.
var ErrBusy = errors.New("a sync is already running")

// Scheduler syncs one WSUS server: every Interval, with a full reconcile
// at least every FullEvery, and on request. One sync runs at a time. Each
// is recorded in the store (see Recorded); the scheduler also logs how
// each ended.
type Scheduler struct {
	st        *store.Store
	dial      Dial
	opt       Options
	interval  time.Duration
	fullEvery time.Duration
	delay     time.Duration
	log       *slog.Logger

	mu      sync.Mutex
	current *Status
	next    time.Time
	ctx     context.Context // the Run context; nil before Run
	stopped bool            // Run is returning: no sync may start
	wg      sync.WaitGroup
	kick    chan struct{}
}

// SchedulerOptions configure a Scheduler. Options names the server;
// Interval 0 turns the schedule off (syncs run only on request).
type SchedulerOptions struct {
	Options
	Interval  time.Duration
	FullEvery time.Duration // default DefaultFullEvery
	// Delay is how long the first scheduled sync waits; 0 runs it at once.
	// The demo, which syncs before it serves, waits a whole interval.
	Delay  time.Duration
	Logger *slog.Logger // default discards
}

// Status is the sync running now.
type Status struct {
	ID        int64
	Full      bool
	StartedBy string
	StartedAt time.Time
	Progress  Progress
}

// ETA estimates when the running sync ends from its rate so far; zero
// until a batch is committed or when the total is unknown.
func (s Status) ETA(now time.Time) time.Time {
	p := s.Progress
	if p.Committed == 0 || p.Total <= p.Committed {
		return time.Time{}
	}
	per := now.Sub(s.StartedAt) / time.Duration(p.Committed)
	return now.Add(per * time.Duration(p.Total-p.Committed))
}

// NewScheduler returns a scheduler of o.Server; call Run to start it.
func NewScheduler(st *store.Store, dial Dial, o SchedulerOptions) *Scheduler {
	if o.FullEvery <= 0 {
		o.FullEvery = DefaultFullEvery
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{st: st, dial: dial, opt: o.Options, interval: o.Interval, fullEvery: o.FullEvery, delay: o.Delay,
		log: o.Logger, kick: make(chan struct{}, 1)}
}

// Server is the WSUS server the scheduler syncs.
func (s *Scheduler) Server() string { return s.opt.Server }

// Interval is the schedule's period; 0 when it is off.
func (s *Scheduler) Interval() time.Duration { return s.interval }

// State returns the running sync (nil when none) and when the next
// scheduled one is due (zero when the schedule is off).
func (s *Scheduler) State() (*Status, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == nil {
		return nil, s.next
	}
	c := *s.current
	return &c, s.next
}

// Run syncs on schedule until ctx ends, the first after Delay, then waits for a sync started by Start to end. It returns nil.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	defer func() {
		// Under the lock, so no Start can add to the group once the
		// wait begins.
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
		s.wg.Wait()
	}()
	if s.interval <= 0 {
		<-ctx.Done()
		return nil
	}
	s.mu.Lock()
	s.next = time.Now().Add(s.delay)
	s.mu.Unlock()
	timer := time.NewTimer(s.delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			if _, err := s.start(ctx, store.SyncBySchedule, false, true); err != nil && !errors.Is(err, ErrBusy) {
				s.log.Error("scheduled sync did not start", "server", s.opt.Server, "error", err)
			}
		case <-s.kick:
			// A sync on request ended: the schedule counts from it, so
			// the next scheduled one is an interval away, not now.
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		}
		s.mu.Lock()
		s.next = time.Now().Add(s.interval)
		s.mu.Unlock()
		timer.Reset(s.interval)
	}
}

// Start begins a sync on request (by names the user) and returns its id
// as soon as it is recorded; the sync goes on in the background. full
// asks for a full reconcile. It returns ErrBusy while a sync runs, and an
// error before Run has begun.
func (s *Scheduler) Start(by string, full bool) (int64, error) {
	s.mu.Lock()
	ctx := s.ctx
	s.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return 0, errors.New("the sync scheduler is not running")
	}
	return s.start(ctx, by, full, false)
}

// start claims the one sync slot, records the sync and runs it: in the
// caller's goroutine when wait is set, otherwise in the background.
func (s *Scheduler) start(ctx context.Context, by string, full, wait bool) (int64, error) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return 0, errors.New("the sync scheduler is stopping")
	}
	if s.current != nil {
		s.mu.Unlock()
		return 0, ErrBusy
	}
	s.current = &Status{StartedBy: by, StartedAt: time.Now(), Full: full}
	if !wait {
		s.wg.Add(1) // claimed with the slot, before Run can begin waiting
	}
	s.mu.Unlock()

	opt := s.opt
	opt.Full = full || s.fullDue(ctx)
	opt.Progress = func(p Progress) {
		s.mu.Lock()
		s.current.Progress = p
		s.mu.Unlock()
	}
	idc := make(chan int64, 1)
	runSync := func() {
		defer func() {
			s.mu.Lock()
			s.current = nil
			s.mu.Unlock()
		}()
		y, _, err := recorded(ctx, s.st, s.dial, opt, by, func(id int64, full bool) {
			s.mu.Lock()
			s.current.ID, s.current.Full = id, full
			s.mu.Unlock()
			idc <- id
		})
		if y.ID == 0 {
			close(idc)
		}
		s.logEnd(y, err)
	}
	if wait {
		runSync()
		return 0, nil
	}
	go func() {
		defer s.wg.Done()
		runSync()
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}()
	id, ok := <-idc
	if !ok {
		return 0, errors.New("the sync could not be recorded; see the server log")
	}
	return id, nil
}

// fullDue reports whether the last full reconcile is older than FullEvery.
func (s *Scheduler) fullDue(ctx context.Context) bool {
	c, err := s.st.WSUSCursor(ctx, s.opt.Server)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("the sync cursor could not be read; reconciling in full", "server", s.opt.Server, "error", err)
		}
		return true // no cursor yet (a full sync in any case) or unreadable
	}
	return c.FullAt.IsZero() || time.Since(c.FullAt) >= s.fullEvery
}

// logEnd writes one line for how a sync ended.
func (s *Scheduler) logEnd(y store.Sync, err error) {
	args := []any{"server", s.opt.Server, "sync", y.ID, "full", y.Full, "outcome", y.Outcome,
		"computers", y.Counts.Computers, "problems", y.Counts.Problems, "took", y.Duration(time.Now()).Round(time.Millisecond)}
	if err != nil {
		s.log.Error("sync failed", append(args, "error", Reason(err))...)
		return
	}
	s.log.Info("sync finished", args...)
}

package repair

import (
	"context"
	"errors"
	"time"

	"wsusfix/remote/scripts"
	"wsusfix/store/run"
)

// This file holds how long the procedure's steps may take, and what the
// detect step's deadline means.

// DefaultDetectTimeout is Options.DetectTimeout's default.
const DefaultDetectTimeout = time.Hour

// DefaultDetectGrace is Options.DetectGrace's default.
const DefaultDetectGrace = 2 * time.Minute

// RunTimeoutFor is a run deadline that leaves a procedure with these
// options time for every step: the detect timeout and its grace, and
// StepTimeout-bounded steps around it (defaults apply to zero values).
func RunTimeoutFor(opt Options) time.Duration {
	opt = opt.withDefaults()
	return opt.DetectTimeout + opt.DetectGrace + 3*opt.StepTimeout
}

// stepTimeout is the bound on one step: the detect timeout and its grace
// for detect, StepTimeout for the others.
func (p *procedure) stepTimeout(name string) time.Duration {
	if name == scripts.Detect {
		return p.opt.DetectTimeout + p.opt.DetectGrace
	}
	return p.opt.StepTimeout
}

// scanRunning reports whether detect ended with the scan still running:
// the script said so at its deadline, or the step's own deadline expired
// (the run's context still live) while the host was silent.
func scanRunning(ctx context.Context, det stepResult) bool {
	if det.status == scripts.StatusOK && det.reason == scripts.ReasonScanRunning {
		return true
	}
	return ctx.Err() == nil && errors.Is(det.err, context.DeadlineExceeded)
}

// skip reports a step that did not run, and why.
func (p *procedure) skip(name, text string) {
	p.sink.Emit(run.Event{Kind: run.EventStepStarted, Step: run.Step(name)})
	p.sink.Emit(run.Event{Kind: run.EventStepFinished, Step: run.Step(name), Status: scripts.StatusSkipped, Text: text})
}

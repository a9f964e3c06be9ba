// Package run is the vocabulary every layer shares about repair runs and
// the update history they read and write: run states and outcomes, the
// kinds of a run's log events and the Event itself, procedures and their
// steps, and the results of Windows Update operations. Each word is
// defined here once, as a typed constant, so the store, the executor and
// the procedure, the pages and the simulator cannot drift apart; a test
// holds the rest of the tree to it.
//
// It imports nothing of ours, so every package may use it.
package run

import "time"

// State is where a run is in its life.
type State string

// Run states. Queued and Running are active; the others are final.
const (
	StateQueued      State = "queued"
	StateRunning     State = "running"
	StateSucceeded   State = "succeeded"
	StateFailed      State = "failed"
	StateCancelled   State = "cancelled"
	StateInterrupted State = "interrupted" // left active by a crash or a missing worker
)

// States lists every state, active ones first.
var States = []State{StateQueued, StateRunning, StateSucceeded, StateFailed, StateCancelled, StateInterrupted}

// Active reports whether a run in state s may still change.
func (s State) Active() bool { return s == StateQueued || s == StateRunning }

// Outcome says in one word what a finished run found or why it stopped.
type Outcome string

// Outcomes of a run.
const (
	OutcomeRepaired      Outcome = "repaired"       // verify proved the failing update installs
	OutcomeStillFailing  Outcome = "still_failing"  // the repair ran and the update still fails
	OutcomeChecked       Outcome = "checked"        // a Check passed
	OutcomeHistoryRead   Outcome = "history_read"   // Refresh history read and stored the host's history
	OutcomeUnknown       Outcome = "unknown"        // the repair ran; no evidence either way yet
	OutcomeDownloaded    Outcome = "downloaded"     // the update downloaded again; its install not yet attempted
	OutcomeScanRunning   Outcome = "scan_running"   // the first scan after the reset was still running at the timeout
	OutcomeRefused       Outcome = "refused"        // preflight refused before changing anything
	OutcomeUnreachable   Outcome = "unreachable"    // the host could not be reached
	OutcomeAuth          Outcome = "auth"           // credentials or rights refused
	OutcomeQuota         Outcome = "quota"          // the host's shell quota was exhausted
	OutcomeTimedOut      Outcome = "timed_out"      // a step or the host did not answer in time
	OutcomeNotConfigured Outcome = "not_configured" // WinRM is not set up in wsusfix
	OutcomeError         Outcome = "error"          // anything else that went wrong
	OutcomeCancelled     Outcome = "cancelled"
	OutcomeInterrupted   Outcome = "interrupted"
)

// EventKind is the kind of one entry of a run's log.
type EventKind string

// Event kinds.
const (
	EventStepStarted  EventKind = "step_started"
	EventOutput       EventKind = "output"
	EventStepFinished EventKind = "step_finished"
	EventRunFinished  EventKind = "run_finished"
)

// Event is one entry of a run's log: stored by the store, published live
// by the executor's hub, replayed and rendered by the pages. Seq numbers a
// run's events from 1 and is assigned when the event is stored.
type Event struct {
	RunID      int64
	Seq        int64
	At         time.Time
	Kind       EventKind
	Step       Step
	Stream     string // "stdout" or "stderr", for output
	Text       string
	Status     string // a step's status (step_finished) or the run's State (run_finished)
	DurationMS int64
	Detail     string // JSON detail of a finished step, or the run's Outcome
}

// Procedure is what a run does to its host.
type Procedure string

// Procedures.
const (
	ProcedureRepair Procedure = "repair" // KB 910336, every step
	ProcedureCheck  Procedure = "check"  // the read-only steps only
	// ProcedureHistory reads the host's own update history and stores it
	// ("Refresh history"); no preflight, since reading refuses nothing.
	ProcedureHistory Procedure = "history"
)

// Step is one step of a procedure; all but connect are scripts of the
// same name.
type Step string

// Steps, in the order a repair runs them.
const (
	StepConnect       Step = "connect"
	StepPreflight     Step = "preflight"
	StepSaveHistory   Step = "save-history"
	StepStopServices  Step = "stop-services"
	StepRename        Step = "rename"
	StepStartServices Step = "start-services"
	StepDetect        Step = "detect"
	StepVerify        Step = "verify"
	StepCleanup       Step = "cleanup"
)

// Steps lists a procedure's steps in order; a Check runs only those that
// change nothing on the host.
func (p Procedure) Steps() []Step {
	switch p {
	case ProcedureCheck:
		return []Step{StepConnect, StepPreflight, StepSaveHistory}
	case ProcedureHistory:
		return []Step{StepConnect, StepSaveHistory}
	}
	return []Step{StepConnect, StepPreflight, StepSaveHistory, StepStopServices, StepRename,
		StepStartServices, StepDetect, StepVerify, StepCleanup}
}

// UpdateResult is the result of one Windows Update operation, named as
// IUpdateHistoryEntry's OperationResultCode is (orcSucceeded → Succeeded).
type UpdateResult string

// Update results.
const (
	ResultInProgress          UpdateResult = "InProgress"          // OperationResultCode 1
	ResultSucceeded           UpdateResult = "Succeeded"           // 2
	ResultSucceededWithErrors UpdateResult = "SucceededWithErrors" // 3
	ResultFailed              UpdateResult = "Failed"              // 4
	ResultAborted             UpdateResult = "Aborted"             // 5
)

// UpdateResults lists them in the order of their codes.
var UpdateResults = []UpdateResult{ResultInProgress, ResultSucceeded, ResultSucceededWithErrors, ResultFailed, ResultAborted}

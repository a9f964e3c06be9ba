// Package repair is the KB 910336 procedure wsusfix runs on a host: the
// steps of remote/scripts in order over one WinRM session, the guarantee
// that stopped update services are started again, and the verdicts that
// say only what the steps' own result lines prove. It is the executor's
// RunFunc; it holds no state between runs.
package repair

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/runner"
	"wsusfix/remote/scripts"
	"wsusfix/store/run"
)

// Options tunes the repair procedure. Zero values get defaults.
type Options struct {
	MinFreeGB      int           // preflight refuses below this; default 10
	ServiceTimeout time.Duration // wait for a service to stop or start; default 90s
	RenameAttempts int           // tries when the folder is locked; default 3
	RenameDelay    time.Duration // between tries; default 5s
	DetectRetries  int           // retries of 0x80244010; default 3
	KeepBackups    int           // SDTemp folders cleanup keeps; default 1
	StepTimeout    time.Duration // bound on one step but detect; default 10m
	// DetectTimeout bounds the detect step's searches; default 1h. After
	// the rename the client does a full scan (KB 4490414: over 1 GB of
	// metadata per client on a large WSUS), which 10 minutes cuts short.
	// A scan still running then is reported as such, not as a failure.
	DetectTimeout time.Duration
	// DetectGrace is how much longer than DetectTimeout the detect step
	// may take before the dashboard stops waiting: time for the script to
	// notice its deadline, start the trigger and say so; default 2m. A
	// host silent past it is reported as still scanning too.
	DetectGrace    time.Duration
	RestoreTimeout time.Duration // bound on the guaranteed service restart; default 3m
	Now            func() time.Time
}

func (o Options) withDefaults() Options {
	if o.MinFreeGB <= 0 {
		o.MinFreeGB = 10
	}
	if o.ServiceTimeout <= 0 {
		o.ServiceTimeout = 90 * time.Second
	}
	if o.RenameAttempts <= 0 {
		o.RenameAttempts = 3
	}
	if o.RenameDelay <= 0 {
		o.RenameDelay = 5 * time.Second
	}
	if o.DetectRetries <= 0 {
		o.DetectRetries = 3
	}
	if o.KeepBackups <= 0 {
		o.KeepBackups = 1
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = 10 * time.Minute
	}
	if o.DetectTimeout <= 0 {
		o.DetectTimeout = DefaultDetectTimeout
	}
	if o.DetectGrace <= 0 {
		o.DetectGrace = DefaultDetectGrace
	}
	if o.RestoreTimeout <= 0 {
		o.RestoreTimeout = 3 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// updateServices are stopped in this order and started in reverse.
var updateServices = []string{"wuauserv", "BITS", "DoSvc"}

// RunFunc returns the procedure of DESIGN.md as the executor's RunFunc: it
// opens one shell on the job's host through c and runs the steps in order,
// emitting every step's start, output and end.
func RunFunc(c *remote.Client, opt Options) runner.RunFunc {
	return RunFuncFrom(func(context.Context) (*remote.Client, error) { return c, nil }, opt)
}

// RunFuncFrom is RunFunc with the client obtained as each run starts, so
// settings changed while the server runs apply to the next run. An error
// from client fails the run's connect step like any other connection
// problem; wrap it in an *remote.Error of kind remote.ErrNotConfigured to say so.
func RunFuncFrom(client func(context.Context) (*remote.Client, error), opt Options) runner.RunFunc {
	opt = opt.withDefaults()
	return func(ctx context.Context, job runner.Job, sink runner.Sink) runner.Result {
		p := &procedure{client: client, opt: opt, job: job, sink: sink}
		return p.run(ctx)
	}
}

// procedure is one run of the steps on one host.
type procedure struct {
	client func(context.Context) (*remote.Client, error)
	opt    Options
	job    runner.Job
	sink   runner.Sink
	sess   *remote.Session
	// extra are services Windows stopped along with ours (dependents);
	// they must be started again too.
	extra []string
}

// stepResult is what one step produced.
type stepResult struct {
	step    string
	status  string // ok, failed, skipped, refused, cancelled
	message string
	reason  string
	lines   []scripts.Line
	err     error
}

func (p *procedure) run(ctx context.Context) runner.Result {
	if res, ok := p.connect(ctx); !ok {
		return res
	}
	defer p.sess.Close()
	if p.job.Procedure == run.ProcedureHistory {
		return p.refreshHistory(ctx)
	}

	pre := p.step(ctx, scripts.Preflight, scripts.PreflightParams{MinFreeGB: p.opt.MinFreeGB})
	switch {
	case pre.status == scripts.StatusRefused:
		return p.stopped(ctx, pre, run.OutcomeRefused, "Preflight refused the repair: ")
	case pre.status != scripts.StatusOK:
		// Not a refusal: the checks did not complete, so nothing is known
		// about the host except that it was left alone.
		return p.stopped(ctx, pre, run.OutcomeError, "The preflight checks did not complete, so nothing was changed: ")
	}
	hist := p.step(ctx, scripts.SaveHistory, historyParams)
	if hist.status != scripts.StatusOK {
		return p.stopped(ctx, hist, run.OutcomeError, "Could not save the update history, so nothing was changed: ")
	}
	saved, saveErr := p.saveHistory(hist.lines)
	if p.job.Procedure == run.ProcedureCheck {
		// The summary names what was stored, not what was read: a store
		// failure is said, not hidden behind the host's count.
		stored := fmt.Sprintf("%d history entries were saved", saved)
		if saveErr != nil {
			stored = "not all of the history read from the host could be stored (" + saveErr.Error() + ")"
		}
		return runner.Result{State: run.StateSucceeded, Outcome: run.OutcomeChecked, HostState: "",
			Summary: "Preflight passed and " + stored + ". A repair would stop Windows Update, rename SoftwareDistribution, restart the services and detect again."}
	}
	return p.repair(ctx, hist.lines)
}

// historyParams bound what save-history reads: the newest 2,000 entries,
// 100 a page (IUpdateSearcher.QueryHistory).
var historyParams = scripts.SaveHistoryParams{PageSize: 100, Max: 2000}

// refreshHistory is the history procedure: read the host's own update
// history and store it, changing nothing on the host. It needs no
// preflight, since reading is safe whatever state the host is in.
func (p *procedure) refreshHistory(ctx context.Context) runner.Result {
	hist := p.step(ctx, scripts.SaveHistory, historyParams)
	if hist.status != scripts.StatusOK {
		return p.stopped(ctx, hist, run.OutcomeError, "Could not read the update history; nothing was changed: ")
	}
	saved, err := p.saveHistory(hist.lines)
	if err != nil {
		return runner.Result{State: run.StateFailed, Outcome: run.OutcomeError, Error: err.Error(),
			Summary: "The host's update history was read, but not all of it could be stored (" + err.Error() + "). Nothing was changed on the host."}
	}
	read := "1 entry"
	if saved != 1 {
		read = fmt.Sprintf("%d entries", saved)
	}
	return runner.Result{State: run.StateSucceeded, Outcome: run.OutcomeHistoryRead,
		Summary: "Read " + read + " of the host's own update history and stored them with the source host (entries already stored are not repeated). Nothing was changed on the host."}
}

// connect opens the shell, as a step of its own so an unreachable host
// reads as such on the run page.
func (p *procedure) connect(ctx context.Context) (runner.Result, bool) {
	p.sink.Emit(run.Event{Kind: run.EventStepStarted, Step: run.StepConnect})
	start := time.Now()
	c, err := p.client(ctx)
	var sess *remote.Session
	if err == nil {
		sess, err = c.Open(ctx, p.job.Target)
	}
	dur := time.Since(start).Milliseconds()
	if err != nil {
		outcome, summary := classify(err)
		p.faultText(run.StepConnect, err)
		p.sink.Emit(run.Event{Kind: run.EventStepFinished, Step: run.StepConnect, Status: stepStatus(ctx, "failed"), DurationMS: dur, Text: summary})
		return runner.Result{State: run.StateFailed, Outcome: outcome, Summary: summary, Error: err.Error()}, false
	}
	p.sess = sess
	p.sink.Emit(run.Event{Kind: run.EventStepFinished, Step: run.StepConnect, Status: "ok", DurationMS: dur,
		Text: "Connected to " + p.job.Target.Name + "."})
	return runner.Result{}, true
}

// repair runs the changing steps. Once stop-services has started,
// start-services runs whatever happens next: failure, timeout or cancel.
func (p *procedure) repair(ctx context.Context, history []scripts.Line) (res runner.Result) {
	restored := false
	defer func() {
		if restored {
			return
		}
		// The run's context may be cancelled or expired: restore on a fresh
		// one so no host is left with Windows Update stopped.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opt.RestoreTimeout)
		defer cancel()
		start := p.step(rctx, scripts.StartServices, p.startParams())
		if start.status != scripts.StatusOK {
			res.Summary += " Restarting the update services failed too: check wuauserv and BITS on the host now."
			res.HostState = "unknown"
		}
	}()
	stop := p.step(ctx, scripts.StopServices, scripts.StopServicesParams{Services: updateServices,
		TimeoutSec: secs(p.opt.ServiceTimeout), BestEffort: bestEffortServices})
	p.extra = dependents(stop.lines)
	if stop.status != scripts.StatusOK {
		return p.failed(ctx, stop, "Stopping the update services failed: ")
	}
	renamedAt := p.opt.Now().UTC()
	// The rename stops the services once more before each attempt; a
	// best-effort service that refused once is not waited for again.
	ren := p.step(ctx, scripts.Rename, scripts.RenameParams{Stamp: scripts.Stamp(renamedAt),
		Attempts: p.opt.RenameAttempts, RetryDelaySec: secs(p.opt.RenameDelay), Services: stoppedServices(stop.lines),
		TimeoutSec: secs(p.opt.ServiceTimeout)})
	if ren.status != scripts.StatusOK && ren.status != scripts.StatusSkipped {
		return p.failed(ctx, ren, "Renaming SoftwareDistribution failed: ")
	}
	start := p.step(ctx, scripts.StartServices, p.startParams())
	// Done unless the run's context ended during the step, which may have
	// cut it short: then the deferred restart runs on a fresh one.
	restored = ctx.Err() == nil
	if start.status != scripts.StatusOK {
		res = p.failed(ctx, start, "Starting the update services failed: ")
		res.Summary += " Check wuauserv and BITS on the host now."
		res.HostState = "unknown"
		return res
	}
	// Say only what the steps' own result lines prove.
	changed := "SoftwareDistribution was renamed and the update services restarted"
	if ren.status == scripts.StatusSkipped {
		changed = "SoftwareDistribution was absent, so nothing was renamed; the update services were restarted"
	}
	// The boundary is the rename's time by the host's own clock: history
	// entries carry the host's times, and the dashboard's clock may be off.
	since := hostTime(ren.lines, renamedAt)
	det := p.step(ctx, scripts.Detect, scripts.DetectParams{Retries: p.opt.DetectRetries, TimeoutSec: secs(p.opt.DetectTimeout)})
	if noResult(det) {
		return p.unproven(changed, det)
	}
	if scanRunning(ctx, det) {
		// Nothing can have installed yet, and verify's searches would wait
		// behind the running scan: say what is going on and stop here. The
		// services were started before detect and stay running.
		p.skip(scripts.Verify, "Skipped: the scan is still running on the host, so there is nothing to verify yet.")
		p.step(ctx, scripts.Cleanup, scripts.CleanupParams{Keep: p.opt.KeepBackups})
		if ctx.Err() != nil {
			return runner.Result{State: run.StateCancelled, Outcome: run.OutcomeCancelled, Summary: "Cancelled after the folder was renamed; the services were restarted."}
		}
		return runner.Result{State: run.StateSucceeded, Outcome: run.OutcomeScanRunning, HostState: "unknown",
			Summary: changed + "; the scan is still running on the host (a first full scan after a reset can take long); check again later."}
	}
	kbs, ids, kinds := failingUpdates(p.job.FailingKBs, history)
	ver := p.step(ctx, scripts.Verify, scripts.VerifyParams{Since: since, KBs: kbs, UpdateIDs: ids, Kinds: kinds})
	if noResult(ver) {
		return p.unproven(changed, ver)
	}
	_, _ = p.saveHistory(ver.lines) // a store failure is in the run log
	p.saveEvidence(ver.lines)
	clean := p.step(ctx, scripts.Cleanup, scripts.CleanupParams{Keep: p.opt.KeepBackups})
	if ctx.Err() != nil {
		return runner.Result{State: run.StateCancelled, Outcome: run.OutcomeCancelled, Summary: "Cancelled after the folder was renamed; the services were restarted."}
	}
	verdict, detail := evidence(ver.lines)
	defer func() {
		if noResult(clean) {
			// Cleanup never fails a repair on its own account, but a host
			// that stops answering for our scripts is not one to trust:
			// the run fails, keeping what verify proved about the host.
			res.State, res.Outcome = run.StateFailed, run.OutcomeError
			res.Summary += " The cleanup step then reported no result, so old backup folders may remain and the host's answers need a look: see the step's output."
		}
	}()
	switch {
	case verdict == scripts.VerdictRepaired:
		return runner.Result{State: run.StateSucceeded, Outcome: run.OutcomeRepaired, HostState: "repaired", Summary: "Repaired: " + detail}
	case verdict == scripts.VerdictStillFailing:
		return runner.Result{State: run.StateFailed, Outcome: run.OutcomeStillFailing, HostState: "failing",
			Summary: "The repair ran but the host still fails: " + detail}
	case verdict == scripts.VerdictDownloaded:
		// 0x80070002 and 0x80070003 fail at install time: a download is
		// progress, not proof.
		return runner.Result{State: run.StateSucceeded, Outcome: run.OutcomeDownloaded, HostState: "unknown",
			Summary: "Downloaded; install not yet attempted: " + downloaded(ver.lines) + ". Next: let Windows Update install it " +
				"(at its scheduled time, or start the install on the host), then refresh the host's history here to see whether it installs."}
	case det.status != scripts.StatusOK:
		return runner.Result{State: run.StateSucceeded, Outcome: run.OutcomeUnknown, HostState: "unknown",
			Summary: changed + ", but detection did not complete: " + orText(det.message, det.reason)}
	case ver.status != scripts.StatusOK:
		return runner.Result{State: run.StateSucceeded, Outcome: run.OutcomeUnknown, HostState: "unknown",
			Summary: changed + ", but the verification did not complete: " + orText(ver.message, ver.reason)}
	default:
		return runner.Result{State: run.StateSucceeded, Outcome: run.OutcomeUnknown, HostState: "unknown",
			Summary: changed + "; no evidence yet whether the update now installs. " + detail}
	}
}

// startParams lists the stopped services in stop order, dependents last;
// the script starts them in reverse.
func (p *procedure) startParams() scripts.StartServicesParams {
	services := append(append([]string(nil), updateServices...), p.extra...)
	return scripts.StartServicesParams{Services: services, TimeoutSec: secs(p.opt.ServiceTimeout)}
}

// dependents collects the services Windows stopped along with ours.
func dependents(lines []scripts.Line) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range lines {
		var s scripts.Service
		if l.Kind != scripts.KindService || l.Decode(&s) != nil {
			continue
		}
		for _, d := range s.Dependents {
			if !seen[strings.ToLower(d)] {
				seen[strings.ToLower(d)] = true
				out = append(out, d)
			}
		}
	}
	return out
}

// step runs one script and reports it: started, each human output line,
// finished with status, duration and the script's result as detail.
func (p *procedure) step(ctx context.Context, name string, params any) stepResult {
	p.sink.Emit(run.Event{Kind: run.EventStepStarted, Step: run.Step(name)})
	start := time.Now()
	res := p.exec(ctx, name, params)
	detail := ""
	if n := len(res.lines); n > 0 {
		b, _ := json.Marshal(res.lines[n-1])
		detail = string(b)
	}
	text := res.message
	if res.err != nil && text == "" {
		_, text = classify(res.err)
	}
	p.faultText(run.Step(name), res.err)
	p.sink.Emit(run.Event{Kind: run.EventStepFinished, Step: run.Step(name), Status: res.status, Text: text,
		DurationMS: time.Since(start).Milliseconds(), Detail: detail})
	return res
}

// faultText puts the host's own words of a WinRM fault in the step's log,
// beside the advice, so what Windows said is never lost.
func (p *procedure) faultText(step run.Step, err error) {
	var e *remote.Error
	if errors.As(err, &e) && e.Fault != "" {
		p.sink.Emit(run.Event{Kind: run.EventOutput, Step: run.Step(step), Stream: remote.Stderr,
			Text: fmt.Sprintf("WinRM fault %d from the host: %s", e.Code, e.Fault)})
	}
}

// exec runs the script through the fixed bootstrap, its parameters and
// text on stdin, and reads its tagged result lines.
func (p *procedure) exec(ctx context.Context, name string, params any) stepResult {
	payload, err := scripts.Payload(name, params)
	if err != nil {
		return stepResult{status: "failed", err: err, message: "internal error: " + err.Error()}
	}
	sctx, cancel := context.WithTimeout(ctx, p.stepTimeout(name))
	defer cancel()
	res := stepResult{step: name}
	var b budget
	lines := remote.NewLines(func(stream, line string) {
		if stream == remote.Stdout && strings.HasPrefix(line, scripts.Tag) && !b.result(len(line)) {
			return
		}
		if stream == remote.Stdout {
			// Only the step's own lines (and the bootstrap's) are evidence;
			// a line naming another step is shown, not believed.
			if l, ok := scripts.ParseLine(line); ok && (l.Step == name || l.Step == scripts.BootstrapStep) {
				res.lines = append(res.lines, l)
				return
			}
		}
		if strings.TrimSpace(line) == "" {
			return
		}
		if text, ok := b.text(line); ok {
			p.sink.Emit(run.Event{Kind: run.EventOutput, Step: run.Step(name), Stream: stream, Text: text})
		}
	})
	code, err := p.sess.Run(sctx, scripts.Bootstrap, payload, lines.Writer(remote.Stdout), lines.Writer(remote.Stderr))
	lines.Flush()
	if note := b.note(); note != "" {
		p.sink.Emit(run.Event{Kind: run.EventOutput, Step: run.Step(name), Stream: remote.Stderr, Text: note})
	}
	switch {
	case err != nil && ctx.Err() != nil:
		res.status, res.err, res.message = stepStatus(ctx, "failed"), err, "Cancelled."
	case err != nil:
		res.status, res.err = "failed", err
	default:
		res.status, res.reason, res.message = finalStatus(name, res.lines, code)
	}
	return res
}

// finalStatus reads how the step ended from its own result line
// (scripts.StepResult), never from its exit code: a host whose PowerShell
// never ran the script (stdin not read, a wrapper, a proxy that answers for
// it) exits 0 just as well.
func finalStatus(step string, lines []scripts.Line, code int) (status, reason, message string) {
	if r, ok := scripts.StepResult(step, lines); ok {
		return r.Status, r.Reason, r.Message
	}
	return scripts.StatusFailed, scripts.ReasonNoResult, fmt.Sprintf(
		"The host ran the step but reported no result (exit code %d); the script may not have run: see its output.", code)
}

// noResult reports a step that ended without its own result line.
func noResult(r stepResult) bool { return r.reason == scripts.ReasonNoResult }

// unproven ends a run whose step after the service restart reported no
// result: the earlier steps proved what changed, nothing proves more.
func (p *procedure) unproven(changed string, r stepResult) runner.Result {
	return runner.Result{State: run.StateFailed, Outcome: run.OutcomeError, HostState: "unknown",
		Summary: changed + ", but the " + r.step + " step reported no result, so whether the host is repaired is unknown: " + r.message}
}

// stepLabel names a step in a summary that says it reported no result.
func stepLabel(step string) string {
	return "The " + step + " step reported no result: "
}

// stopped ends a run before anything changed on the host.
func (p *procedure) stopped(ctx context.Context, r stepResult, outcome run.Outcome, prefix string) runner.Result {
	if ctx.Err() != nil {
		return runner.Result{State: run.StateCancelled, Outcome: run.OutcomeCancelled, Summary: "Cancelled before anything changed on the host."}
	}
	if r.err != nil {
		o, s := classify(r.err)
		return runner.Result{State: run.StateFailed, Outcome: o, Summary: prefix + s, Error: r.err.Error()}
	}
	if noResult(r) {
		prefix = stepLabel(r.step) + "nothing was changed. "
	}
	return runner.Result{State: run.StateFailed, Outcome: outcome, Summary: prefix + orText(r.message, r.reason)}
}

// failed ends a run after services were stopped (the deferred restart
// follows).
func (p *procedure) failed(ctx context.Context, r stepResult, prefix string) runner.Result {
	if ctx.Err() != nil {
		return runner.Result{State: run.StateCancelled, Outcome: run.OutcomeCancelled, Summary: "Cancelled; the update services were restarted."}
	}
	if noResult(r) {
		prefix = stepLabel(r.step)
	}
	res := runner.Result{State: run.StateFailed, Outcome: run.OutcomeError, Summary: prefix + orText(r.message, r.reason)}
	if r.err != nil {
		res.Outcome, res.Summary = classify(r.err)
		res.Summary = prefix + res.Summary
		res.Error = r.err.Error()
	}
	return res
}

// saveHistory stores the history entries among a step's result lines and
// returns how many it handed to the store, or the store's error, which it
// also writes to the run log. Entries with an unreadable date are skipped
// and counted in the log.
func (p *procedure) saveHistory(lines []scripts.Line) (int, error) {
	var entries []runner.HistoryEntry
	undated := 0
	for _, l := range lines {
		var h scripts.History
		if l.Kind != scripts.KindHistory || l.Decode(&h) != nil {
			continue
		}
		for _, e := range h.Entries {
			t, err := time.Parse(time.RFC3339, e.Date)
			if err != nil {
				undated++
				continue
			}
			entries = append(entries, runner.HistoryEntry{Time: t.UTC(), UpdateID: e.UpdateID, KB: e.KB, Title: e.Title,
				Operation: titleWord(e.Operation), Result: resultName(e.Result), HResult: e.HResult})
		}
	}
	if undated > 0 {
		p.sink.Emit(run.Event{Kind: run.EventOutput, Step: run.StepSaveHistory, Stream: remote.Stderr,
			Text: fmt.Sprintf("skipped %d history entries without a readable date", undated)})
	}
	if len(entries) == 0 {
		return 0, nil
	}
	if err := p.sink.SaveHistory(entries, "host"); err != nil {
		p.sink.Emit(run.Event{Kind: run.EventOutput, Step: run.StepSaveHistory, Stream: remote.Stderr, Text: "could not store history: " + err.Error()})
		return 0, err
	}
	return len(entries), nil
}

// saveEvidence stores what verify found as history entries (source
// "repair"), so the host's history shows the install the repair brought
// about, or the new failure. Pending downloads are not installs and are
// left to the run log.
func (p *procedure) saveEvidence(lines []scripts.Line) {
	var entries []runner.HistoryEntry
	for _, l := range lines {
		var e scripts.Evidence
		if l.Kind != scripts.KindEvidence || l.Decode(&e) != nil || (e.KB == "" && e.UpdateID == "") {
			continue
		}
		at, err := time.Parse(time.RFC3339, e.Date)
		if err != nil {
			continue
		}
		entry := runner.HistoryEntry{Time: at.UTC(), UpdateID: e.UpdateID, KB: e.KB, Title: e.Title, Operation: "Installation"}
		switch {
		case e.Verdict == scripts.VerdictRepaired && (e.Source == scripts.SourceHistory || e.Source == scripts.SourceHotfix):
			entry.Result = run.ResultSucceeded
		case e.Verdict == scripts.VerdictStillFailing:
			entry.Result, entry.HResult = run.ResultFailed, e.HResult
		default:
			continue
		}
		entries = append(entries, entry)
	}
	if len(entries) > 0 {
		if err := p.sink.SaveHistory(entries, "repair"); err != nil {
			p.sink.Emit(run.Event{Kind: run.EventOutput, Step: run.StepVerify, Stream: remote.Stderr, Text: "could not store the evidence: " + err.Error()})
		}
	}
}

// resultName turns a script's result word ("succeeded_with_errors") into
// the stored name ("SucceededWithErrors").
func resultName(s string) run.UpdateResult {
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		b.WriteString(titleWord(part))
	}
	return run.UpdateResult(b.String())
}

func titleWord(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// evidence reads the verify step's verdict and the detail behind it.
func evidence(lines []scripts.Line) (verdict, detail string) {
	verdict = scripts.VerdictUnknown
	if r, ok := scripts.StepResult(scripts.Verify, lines); ok && r.Verdict != "" {
		verdict, detail = r.Verdict, r.Message
	}
	// The first evidence line with that verdict: verify prints the KBs it
	// was given before their update ids, and a KB reads better.
	for _, l := range lines {
		var e scripts.Evidence
		if l.Kind == scripts.KindEvidence && l.Decode(&e) == nil && e.Verdict == verdict && e.Detail != "" {
			return verdict, strings.TrimSpace(e.KB + " " + e.Detail)
		}
	}
	return verdict, detail
}

// classify turns an error into a one-word outcome and a sentence.
func classify(err error) (outcome run.Outcome, summary string) {
	var e *remote.Error
	switch {
	case errors.Is(err, context.Canceled):
		return run.OutcomeCancelled, "Cancelled."
	case errors.Is(err, context.DeadlineExceeded):
		return run.OutcomeTimedOut, "The step did not finish in time."
	case errors.As(err, &e):
		kind := map[error]run.Outcome{remote.ErrNotConfigured: run.OutcomeNotConfigured, remote.ErrUnreachable: run.OutcomeUnreachable, remote.ErrTLS: run.OutcomeUnreachable, remote.ErrAuth: run.OutcomeAuth,
			remote.ErrAccessDenied: run.OutcomeAuth, remote.ErrQuota: run.OutcomeQuota, remote.ErrTimedOut: run.OutcomeTimedOut, remote.ErrShellGone: run.OutcomeUnreachable}[e.Kind]
		if kind == "" {
			kind = run.OutcomeError
		}
		if e.Help == "" {
			return kind, e.Kind.Error()
		}
		return kind, strings.ToUpper(e.Help[:1]) + e.Help[1:] + "."
	}
	return run.OutcomeError, err.Error()
}

func stepStatus(ctx context.Context, otherwise string) string {
	if errors.Is(context.Cause(ctx), runner.ErrCancelled) || errors.Is(ctx.Err(), context.Canceled) {
		return "cancelled"
	}
	return otherwise
}

func orText(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func secs(d time.Duration) int { return int(d.Round(time.Second) / time.Second) }

package views

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"wsusfix/store"
	"wsusfix/store/run"
)

// stepLabels names the procedure's steps for people.
var stepLabels = map[string]string{
	"connect":        "Connect",
	"preflight":      "Preflight checks",
	"save-history":   "Save update history",
	"stop-services":  "Stop update services",
	"rename":         "Rename SoftwareDistribution",
	"start-services": "Start update services",
	"detect":         "Detect updates",
	"verify":         "Verify",
	"cleanup":        "Clean up old backups",
}

// StepLabel is the human name of a step.
func StepLabel(name string) string {
	if l, ok := stepLabels[name]; ok {
		return l
	}
	return name
}

// OutputLine is one line a step printed.
type OutputLine struct {
	Seq    int64
	Stream string
	Text   string
}

// StepView is one step of a run as the page shows it.
type StepView struct {
	Name     string
	State    string // pending, running, ok, failed, skipped, refused, cancelled
	Duration string
	Detail   string
	Lines    []OutputLine
}

// BuildSteps lays a run's stored events over the procedure's step list:
// every step appears, in order, with what happened to it so far.
func BuildSteps(order []run.Step, events []run.Event) []StepView {
	steps := make([]StepView, 0, len(order))
	index := map[string]int{}
	for _, step := range order {
		index[string(step)] = len(steps)
		steps = append(steps, StepView{Name: string(step), State: "pending"})
	}
	at := func(step run.Step) *StepView {
		name := string(step)
		i, ok := index[name]
		if !ok {
			index[name] = len(steps)
			steps = append(steps, StepView{Name: name, State: "pending"})
			i = index[name]
		}
		return &steps[i]
	}
	for _, ev := range events {
		switch ev.Kind {
		case run.EventStepStarted:
			at(ev.Step).State = "running"
		case run.EventOutput:
			s := at(ev.Step)
			s.Lines = append(s.Lines, OutputLine{Seq: ev.Seq, Stream: ev.Stream, Text: ev.Text})
		case run.EventStepFinished:
			s := at(ev.Step)
			s.State, s.Detail = ev.Status, ev.Text
			s.Duration = FormatDuration(time.Duration(ev.DurationMS) * time.Millisecond)
		}
	}
	return steps
}

// FormatDuration shows a duration to a sensible precision.
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	default:
		return d.Round(time.Second).String()
	}
}

// RunProps is everything the run page shows.
type RunProps struct {
	Run       store.Run
	Steps     []StepView
	LastSeq   int64
	CanCancel bool
	Next      *RunNext // what a finished run offers next; nil when the user may not start runs
	// Admin shows the technical detail (the client's error, the advice
	// for whoever runs wsusfix) that other roles see only as a pointer.
	Admin bool
}

// adminClass reports whether a finished run's outcome is a connection or
// set-up failure, whose summary is advice for the administrator (WinRM
// flags, Kerberos, quotas), not for the helpdesk.
func adminClass(o run.Outcome) bool {
	switch o {
	case run.OutcomeUnreachable, run.OutcomeAuth, run.OutcomeQuota, run.OutcomeNotConfigured:
		return true
	}
	return false
}

// shownSummary is the run's summary as this reader should see it: a
// connection failure's advice is the administrator's, so others read
// what to do instead.
func (p RunProps) shownSummary() string {
	if !p.Admin && adminClass(p.Run.Outcome) {
		return "wsusfix could not connect to or sign in to the host, so nothing was changed. " +
			"This needs an administrator: send them this page's address; they see the technical details here."
	}
	return orDash(p.Run.Summary)
}

// RunNext is what a finished run's page offers next, one click away.
type RunNext struct {
	Host      string
	Procedure run.Procedure // the finished run's, to run again
	Code      string        // the host's failing code, "0x80070002"; "" when it no longer fails
	NextHost  string        // the next host failing with Code; "" when none
}

// notRun is the state a finished run shows for a step it never reached.
const notRun = "not run"

// shownState is the state a step shows: while the run goes, a step not
// reached yet is pending; once it has ended, such a step did not run.
func shownState(state string, active bool) string {
	if state == "pending" && !active {
		return notRun
	}
	return state
}

// Banner says in helpdesk words what a finished run did to its host.
type Banner struct {
	Kind  string // ok, bad or warn: the colour
	Title string
	Text  string
}

// changedHost reports whether the run got as far as stopping the update
// services, the first step that changes anything.
func changedHost(steps []StepView) bool {
	for _, s := range steps {
		if s.Name == string(run.StepStopServices) {
			return s.State != "pending" && s.State != notRun
		}
	}
	return false
}

// RunBanner classifies a finished run for the people who started it:
// repaired and verified, ran and did not help, refused safely, could not
// reach or sign in, cancelled, interrupted. The run's own summary, beside
// it, says the details.
func RunBanner(r store.Run, steps []StepView) Banner {
	changed := changedHost(steps)
	switch r.Outcome {
	case run.OutcomeRepaired:
		return Banner{"ok", "Repaired (verified)", "The update that failed has installed since SoftwareDistribution was reset."}
	case run.OutcomeChecked:
		return Banner{"ok", "Check passed", "Nothing was changed on the host; a repair would be allowed to run."}
	case run.OutcomeHistoryRead:
		return Banner{"ok", "History refreshed", "The host's own update history was read and stored; nothing was changed on the host."}
	case run.OutcomeStillFailing:
		return Banner{"bad", "Ran, and did not help", "The repair ran; the update still fails. Resetting SoftwareDistribution is not the fix for this host."}
	case run.OutcomeRefused:
		return Banner{"warn", "Refused safely", "The host was checked and left as it was, before anything changed."}
	case run.OutcomeUnreachable, run.OutcomeAuth, run.OutcomeQuota, run.OutcomeNotConfigured, run.OutcomeTimedOut:
		if !changed {
			return Banner{"warn", "Could not reach or sign in to the host", "Nothing was changed on the host."}
		}
		return Banner{"bad", "The host stopped answering during the repair", "The update services may need a look on the host."}
	case run.OutcomeCancelled:
		if changed {
			return Banner{"warn", "Cancelled", "The update services were started again on the host."}
		}
		return Banner{"warn", "Cancelled", "Cancelled before anything changed on the host."}
	case run.OutcomeInterrupted:
		return Banner{"bad", "Interrupted", "The run stopped with the server; the host's state is unknown. Run Check on it."}
	case run.OutcomeDownloaded, run.OutcomeScanRunning, run.OutcomeUnknown:
		return Banner{"warn", "Ran; no proof yet", "The repair ran, but nothing yet proves the update installs. Check the host again later."}
	}
	if changed {
		return Banner{"bad", "Stopped on an error", "The repair stopped after changing the host; see the steps below."}
	}
	return Banner{"bad", "Could not run", "Nothing was changed on the host; see the steps below."}
}

// RunHref is a run's page.
func RunHref(id int64) templ.SafeURL { return templ.SafeURL("/runs/" + strconv.FormatInt(id, 10)) }

// stateClass picks the tag colour for a run or step state.
func stateClass(state string) string {
	switch state {
	case "ok", "succeeded":
		return "tag ok"
	case "failed", "refused", "interrupted":
		return "tag bad"
	case "running", "queued":
		return "tag info"
	default:
		return "tag warn"
	}
}

// RunsProps is the runs list.
type RunsProps struct {
	Runs   []store.Run
	Total  int
	Filter RunsQuery
	Page   int
	Pages  int
}

// RunsQuery is the runs list's filters as they travel in the URL.
type RunsQuery struct {
	Host  string
	State string
	Who   string
	From  string // YYYY-MM-DD
	To    string // YYYY-MM-DD, inclusive
	Code  string // repair runs of hosts failing with this code ("0x80070002")
	Batch int64  // runs of one batch
	Page  int
}

// Href returns the runs list URL for the query.
func (q RunsQuery) Href() templ.SafeURL {
	v := url.Values{}
	for k, s := range map[string]string{"host": q.Host, "state": q.State, "who": q.Who, "from": q.From, "to": q.To, "code": q.Code} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Batch > 0 {
		v.Set("batch", strconv.FormatInt(q.Batch, 10))
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if len(v) == 0 {
		return "/runs"
	}
	return templ.SafeURL("/runs?" + v.Encode())
}

// WithPage returns the query on page n.
func (q RunsQuery) WithPage(n int) RunsQuery { q.Page = n; return q }

func i64(n int64) string { return strconv.FormatInt(n, 10) }

// runDuration is how long a run took, or has been going.
func runDuration(r store.Run) string {
	if r.StartedAt.IsZero() {
		return ""
	}
	end := r.FinishedAt
	if end.IsZero() {
		return ""
	}
	return FormatDuration(end.Sub(r.StartedAt))
}

// anyActive reports whether some run of the list is queued or running: its
// page then refreshes the list until they end.
func anyActive(runs []store.Run) bool {
	for _, r := range runs {
		if r.Active() {
			return true
		}
	}
	return false
}

// exportFormats are the formats every list offers, as URLs spell them.
var exportFormats = []string{"csv", "xlsx", "json"}

// exportLabel names a format on its button.
func exportLabel(f string) string {
	switch f {
	case "xlsx":
		return "Excel"
	case "json":
		return "JSON"
	}
	return "Export CSV"
}

// ExportHref is the export of the runs under q's filters in format f.
func (q RunsQuery) ExportHref(f string) templ.SafeURL {
	h := string(q.Href())
	_, query, _ := strings.Cut(h, "?")
	u := "/export/runs." + f
	if query != "" {
		u += "?" + query
	}
	return templ.SafeURL(u)
}

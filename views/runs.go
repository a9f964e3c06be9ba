package views

import (
	"fmt"
	"net/url"
	"strconv"
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
	Page  int
}

// Href returns the runs list URL for the query.
func (q RunsQuery) Href() templ.SafeURL {
	v := url.Values{}
	for k, s := range map[string]string{"host": q.Host, "state": q.State, "who": q.Who, "from": q.From, "to": q.To} {
		if s != "" {
			v.Set(k, s)
		}
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

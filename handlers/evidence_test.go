package handlers_test

import (
	"strings"
	"testing"

	"wsusfix/store"
	"wsusfix/store/run"
)

// TestEvidence ensures triage (filtered by a code and not) and the host
// page show beside the suggested action what the repair did here for the
// code, and that its link lists exactly the runs it counts.
func TestEvidence(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("vera", store.RoleViewer))
	a.seed(t, []store.HostInput{{Name: "PC-1"}, {Name: "PC-2"}, {Name: "PC-3"}},
		map[string]uint32{"PC-1": 0x80070002, "PC-2": 0x80070002, "PC-3": 0x80070002})
	ctx := t.Context()
	for name, o := range map[string]run.Outcome{"PC-1": run.OutcomeRepaired, "PC-2": run.OutcomeStillFailing} {
		h, _ := a.st.HostByName(ctx, name)
		rn, err := a.st.CreateRun(ctx, store.RunInput{HostID: h.ID, Procedure: run.ProcedureRepair, RequestedBy: "olga"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.st.FinishRun(ctx, rn.ID, store.RunResult{State: run.StateSucceeded, Outcome: o}); err != nil {
			t.Fatal(err)
		}
	}
	const want = "Here, KB 910336 repaired 1 of 2 hosts with 0x80070002 in the last 90 days; 1 still failing."
	_, doc := a.get(t, "/?code=0x80070002")
	ev := doc.Find(`[data-testid="code-explained"] [data-testid="evidence"]`)
	if got := ev.Text(); got != want {
		t.Errorf("filtered triage says %q", got)
	}
	href := ev.AttrOr("href", "")
	if !strings.HasPrefix(href, "/runs?") || !strings.Contains(href, "code=0x80070002") {
		t.Fatalf("evidence links to %q", href)
	}
	_, runs := a.get(t, href)
	if got := texts(runs, `[data-testid="run-row"] td.host`); len(got) != 2 {
		t.Errorf("the evidence's runs list shows %q, want the 2 repairs it counts", got)
	}
	_, doc = a.get(t, "/")
	if got := texts(doc, `[data-testid="evidence-short"]`); len(got) != 3 || got[0] != "1 of 2 fixed here" {
		t.Errorf("unfiltered rows say %q", got)
	}
	_, doc = a.get(t, "/hosts/PC-3")
	if got := doc.Find(`[data-testid="host-failure"] [data-testid="evidence"]`).Text(); got != want {
		t.Errorf("host page says %q", got)
	}
}

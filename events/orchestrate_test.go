package events_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	. "github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
)

func payloadEvents(t *testing.T, rel string) []Event {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "testdata", "payloads", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	evs, ign, reason, err := Normalize(fileDelivery(t, rel, body))
	if err != nil || ign {
		t.Fatalf("%s: ignored=%v %s err=%v", rel, ign, reason, err)
	}
	return evs
}

func typesOf(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func TestOrchestrateCI(t *testing.T) {
	const (
		push   = "github/push.json"                // main
		pr     = "github/pull_request.json"        // feature/retry-jitter
		multi  = "bitbucket/repo-push--multi.json" // release/3.1 + refs/tags/v3.1.2
		tag    = "github/push--tag.json"           // refs/tags/v2.7.0
		ping   = "github/ping.json"
		build  = "azuredevops/build-complete.json" // main
		bamboo = "bamboo/build-completed.json"     // release/2.4
	)
	cases := []struct {
		name     string
		file     string
		branches []string
		scans    []string
		pipeline bool
		types    []string
		action   string
	}{
		{"no settings: runbook only", push, nil, nil, false,
			[]string{TypePush, TypeRunbookTrigger}, "forwarded,runbook"},
		{"all branches, both scans, pipeline", push, nil, []string{"sast", "sca"}, true,
			[]string{TypePush, TypeScanRequested, TypePipelineRequested, TypeRunbookTrigger}, "forwarded,scan:sast,sca,pipeline,runbook"},
		{"main matches", push, []string{"main", "release/*"}, []string{"sast"}, false,
			[]string{TypePush, TypeScanRequested, TypeRunbookTrigger}, "forwarded,scan:sast,runbook"},
		{"feature branch filtered", pr, []string{"main", "release/*"}, []string{"sast", "sca"}, true,
			[]string{TypePullRequest, TypeRunbookTrigger}, "filtered,runbook"},
		{"release glob matches", bamboo, []string{"main", "release/*"}, nil, true,
			[]string{TypeBuild, TypePipelineRequested, TypeRunbookTrigger}, "forwarded,pipeline,runbook"},
		{"release/* does not match deeper paths", pr, []string{"feature/*/x"}, []string{"sca"}, false,
			[]string{TypePullRequest, TypeRunbookTrigger}, "filtered,runbook"},
		{"feature glob", pr, []string{"feature/*"}, []string{"sca"}, false,
			[]string{TypePullRequest, TypeScanRequested, TypeRunbookTrigger}, "forwarded,scan:sca,runbook"},
		{"multi-ref: branch matches, tag filtered; one runbook", multi, []string{"release/*"}, []string{"sast"}, true,
			[]string{TypePush, TypeScanRequested, TypePipelineRequested, TypeTag, TypeRunbookTrigger}, "forwarded,filtered,scan:sast,pipeline,runbook"},
		{"multi-ref: no filter, both scanned", multi, nil, []string{"sast"}, false,
			[]string{TypePush, TypeScanRequested, TypeTag, TypeScanRequested, TypeRunbookTrigger}, "forwarded,scan:sast,runbook"},
		{"tags do not pass for branches", tag, []string{"main", "v*", "*"}, []string{"sast"}, false,
			[]string{TypeTag, TypeRunbookTrigger}, "filtered,runbook"},
		{"tags pass a tag glob", tag, []string{"main", "refs/tags/v*"}, []string{"sast"}, false,
			[]string{TypeTag, TypeScanRequested, TypeRunbookTrigger}, "forwarded,scan:sast,runbook"},
		{"ping: never scans, still a runbook", ping, nil, []string{"sast", "sca"}, true,
			[]string{TypePing, TypeRunbookTrigger}, "forwarded,runbook"},
		{"ping with a filter", ping, []string{"main"}, []string{"sast"}, true,
			[]string{TypePing, TypeRunbookTrigger}, "forwarded,runbook"},
		{"build on main", build, []string{"main"}, []string{"sca"}, true,
			[]string{TypeBuild, TypeScanRequested, TypePipelineRequested, TypeRunbookTrigger}, "forwarded,scan:sca,pipeline,runbook"},
		{"malformed glob matches nothing", push, []string{"[main"}, []string{"sast"}, false,
			[]string{TypePush, TypeRunbookTrigger}, "filtered,runbook"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs := payloadEvents(t, c.file)
			rec := integrations.Record{ID: "it", Vendor: vendorOf(evs[0]), Branches: c.branches, Scans: c.scans, Pipeline: c.pipeline}
			all, action := Orchestrate(rec, evs)
			if got := typesOf(all); !slices.Equal(got, c.types) {
				t.Errorf("types %v, want %v", got, c.types)
			}
			if action != c.action {
				t.Errorf("action %q, want %q", action, c.action)
			}
			ids := map[string]bool{}
			for _, e := range all {
				if ids[e.ID] {
					t.Errorf("duplicate id %s", e.ID)
				}
				ids[e.ID] = true
				if e.CI == nil {
					t.Errorf("%s without ci", e.Type)
				}
				if e.Type == TypeScanRequested && (e.Scan == nil || !slices.Equal(e.Scan.Kinds, c.scans)) {
					t.Errorf("scan %+v", e.Scan)
				}
				if e.Type != TypeScanRequested && e.Scan != nil {
					t.Errorf("%s with scan", e.Type)
				}
			}
			again, _ := Orchestrate(rec, evs)
			for i := range all {
				if all[i].ID != again[i].ID {
					t.Errorf("ids differ between runs: %s %s", all[i].ID, again[i].ID)
				}
			}
		})
	}
}

// vendorOf is the vendor an event came from.
func vendorOf(e Event) integrations.Vendor { return integrations.Vendor(e.Source.Vendor) }

func TestOrchestrateTickets(t *testing.T) {
	cases := []struct {
		name       string
		file       string
		autoClose  bool
		doneStates []string
		transition string // of the status change
		category   string
		action     string
	}{
		{"jira done, retest", "jira/issue-updated.json", false, nil, TransitionRetest, "done", "forwarded,transition:retest"},
		{"jira done, auto close", "jira/issue-updated.json", true, nil, TransitionClosed, "done", "forwarded,transition:closed"},
		{"jira reopened: no transition", "jira/issue-updated--reopened.json", true, nil, "", "new", "forwarded"},
		{"servicenow 6 is done by default", "servicenow/incident-resolved.json", false, nil, TransitionRetest, "done", "forwarded,transition:retest"},
		{"servicenow 6, auto close", "servicenow/incident-resolved.json", true, nil, TransitionClosed, "done", "forwarded,transition:closed"},
		{"servicenow custom done states exclude 6", "servicenow/incident-resolved.json", true, []string{"7"}, "", "", "forwarded"},
		{"servicenow custom done states include 2", "servicenow/incident-in-progress.json", true, []string{"2", "7"}, TransitionClosed, "done", "forwarded,transition:closed"},
		{"servicenow in progress is not done", "servicenow/incident-in-progress.json", true, nil, "", "", "forwarded"},
		{"manageengine Closed is done by default", "manageengine/request-closed.json", false, nil, TransitionRetest, "done", "forwarded,transition:retest"},
		{"manageengine Closed, auto close", "manageengine/request-closed.json", true, nil, TransitionClosed, "done", "forwarded,transition:closed"},
		{"manageengine custom done states, case-insensitive", "manageengine/request-in-progress.json", false, []string{"in progress"}, TransitionRetest, "done", "forwarded,transition:retest"},
		{"manageengine custom done states exclude Closed", "manageengine/request-closed.json", true, []string{"Resolved", "Completed"}, "", "", "forwarded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs := payloadEvents(t, c.file)
			rec := integrations.Record{ID: "it", Vendor: vendorOf(evs[0]), AutoCloseOnResolve: c.autoClose, DoneStates: c.doneStates}
			all, action := Orchestrate(rec, evs)
			if len(all) != len(evs) {
				t.Fatalf("ticket events gained %d events", len(all)-len(evs))
			}
			if action != c.action {
				t.Errorf("action %q, want %q", action, c.action)
			}
			for i, e := range all {
				if e.ID != evs[i].ID || e.Type != evs[i].Type {
					t.Errorf("event %d changed identity", i)
				}
				switch e.Type {
				case TypeTicketStatus:
					if e.Ticket.FindingTransition != c.transition || e.Ticket.StatusCategory != c.category {
						t.Errorf("transition %q category %q, want %q %q", e.Ticket.FindingTransition, e.Ticket.StatusCategory, c.transition, c.category)
					}
				case TypeTicketComment:
					if e.Ticket.FindingTransition != "" {
						t.Errorf("comment with transition %q", e.Ticket.FindingTransition)
					}
				}
			}
			if evs[0].Ticket.FindingTransition != "" {
				t.Error("Orchestrate changed its input")
			}
		})
	}
}

func TestOrchestrateEmpty(t *testing.T) {
	all, action := Orchestrate(integrations.Record{}, nil)
	if all != nil || action != "ignored" {
		t.Fatalf("%v %q", all, action)
	}
}

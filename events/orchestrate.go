package events

import (
	"path"
	"slices"
	"strings"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Finding transitions a done ticket asks for.
const (
	TransitionClosed = "closed"
	TransitionRetest = "retest"
)

// Orchestrate adds what the integration's settings ask for to the events
// Normalize returned for one delivery, and says what it did.
//
// CI events: every ci.push, ci.pull_request, ci.tag and ci.build whose
// branch matches rec.Branches (path.Match globs; an empty list matches
// everything) is followed by scan.requested (when rec.Scans is set) and
// pipeline.requested (when rec.Pipeline). Tag events match on their full
// ref (`refs/tags/v1.2.0`), so `main release/*` never scans tags and
// `refs/tags/*` scans them; events without a branch (a build that names
// none) match only an empty list. ci.ping never asks for scans or
// pipelines: it carries no code. Whatever matched, one runbook.trigger
// follows per delivery, ping included; it carries the first CI event's ci
// fields. Derived ids are EventID(primary id, derived type).
//
// Ticket events: a ticket.status_changed to a done status gets
// FindingTransition closed (rec.AutoCloseOnResolve) or retest. Done means
// status_category `done` (Jira), and for a vendor whose rules set
// DoneByState (ServiceNow, ManageEngine) a status in
// rec.EffectiveDoneStates() (compared case-insensitively), which also sets
// status_category `done`. A change to any other status passes
// with an empty transition, so the finding service still sees reopenings.
// Comments pass as they are.
//
// The action is a comma-separated list of steps, in this order:
// `forwarded` (a CI event matched the branch filter, or ticket events were
// passed on), `filtered` (a CI event did not match), `scan:<kinds>` with
// the kinds themselves comma-separated as CONTRACT.md spells them
// (`scan:sast,sca`), `pipeline`, `transition:closed` or
// `transition:retest`, and `runbook`. Examples: `forwarded,scan:sast,sca,
// pipeline,runbook`, `filtered,runbook`, `forwarded,transition:retest`. No
// events gives `ignored`.
func Orchestrate(rec integrations.Record, evs []Event) (all []Event, action string) {
	if len(evs) == 0 {
		return nil, "ignored"
	}
	all = make([]Event, 0, len(evs)*3+1)
	var (
		matched, filtered, scanned, piped, runbook bool
		transitions                                []string
		firstCI                                    *Event
	)
	for i := range evs {
		ev := evs[i]
		switch {
		case ev.CI != nil && strings.HasPrefix(ev.Type, "ci."):
			all = append(all, ev)
			if firstCI == nil {
				firstCI = &evs[i]
			}
			if ev.Type == TypePing {
				matched = true
				continue
			}
			if !branchMatches(rec.Branches, ev.CI.Branch) {
				filtered = true
				continue
			}
			matched = true
			if len(rec.Scans) > 0 {
				all = append(all, derived(ev, TypeScanRequested, &Scan{Kinds: slices.Clone(rec.Scans)}))
				scanned = true
			}
			if rec.Pipeline {
				all = append(all, derived(ev, TypePipelineRequested, nil))
				piped = true
			}
		case ev.Ticket != nil && ev.Type == TypeTicketStatus:
			t := *ev.Ticket
			if isDone(rec, ev.Source.Vendor, &t) {
				t.StatusCategory = "done"
				t.FindingTransition = TransitionRetest
				if rec.AutoCloseOnResolve {
					t.FindingTransition = TransitionClosed
				}
				if !slices.Contains(transitions, t.FindingTransition) {
					transitions = append(transitions, t.FindingTransition)
				}
			}
			ev.Ticket = &t
			all = append(all, ev)
			matched = true
		default:
			all = append(all, ev)
			matched = true
		}
	}
	if firstCI != nil {
		all = append(all, derived(*firstCI, TypeRunbookTrigger, nil))
		runbook = true
	}
	var steps []string
	if matched {
		steps = append(steps, "forwarded")
	}
	if filtered {
		steps = append(steps, "filtered")
	}
	if scanned {
		steps = append(steps, "scan:"+strings.Join(rec.Scans, ","))
	}
	if piped {
		steps = append(steps, "pipeline")
	}
	for _, t := range transitions {
		steps = append(steps, "transition:"+t)
	}
	if runbook {
		steps = append(steps, "runbook")
	}
	return all, strings.Join(steps, ",")
}

// derived builds an event that follows a CI event, sharing its source, time
// and ci fields.
func derived(primary Event, typ string, scan *Scan) Event {
	ci := *primary.CI
	return Event{
		ID:         EventID(primary.ID, typ),
		Type:       typ,
		OccurredAt: primary.OccurredAt,
		Source:     primary.Source,
		CI:         &ci,
		Scan:       scan,
	}
}

// branchMatches reports whether branch passes the globs; an empty list
// passes everything, an empty branch only an empty list. A malformed glob
// matches nothing.
func branchMatches(globs []string, branch string) bool {
	if len(globs) == 0 {
		return true
	}
	if branch == "" {
		return false
	}
	for _, g := range globs {
		if ok, err := path.Match(g, branch); err == nil && ok {
			return true
		}
	}
	return false
}

// isDone reports whether a status change reaches a done status, the way
// the vendor's Rules.DoneByState says.
func isDone(rec integrations.Record, vendor string, t *Ticket) bool {
	v := integrations.Vendor(vendor)
	if registry[v].DoneByState {
		r := rec
		if r.Vendor == "" {
			r.Vendor = v
		}
		for _, s := range r.EffectiveDoneStates() {
			if strings.EqualFold(strings.TrimSpace(s), t.Status) {
				return true
			}
		}
		return false
	}
	return t.StatusCategory == "done"
}

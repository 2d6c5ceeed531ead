package events_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	. "github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// fuzzEvents are event names worth trying per vendor; the fuzzer mutates
// them too.
var fuzzEvents = map[integrations.Vendor][]string{
	integrations.GitHub:       {"push", "pull_request", "ping", "workflow_run", "check_suite", "star"},
	integrations.GitLab:       {"Push Hook", "Tag Push Hook", "Merge Request Hook", "Pipeline Hook", "System Hook", ""},
	integrations.Bitbucket:    {"repo:push", "pullrequest:created", "repo:refs_changed", "pr:opened", "diagnostics:ping", ""},
	integrations.AzureDevOps:  {"git.push", "git.pullrequest.updated", "build.complete"},
	integrations.Jira:         {"jira:issue_updated", "comment_created", "comment_updated"},
	integrations.Jenkins:      {"build"},
	integrations.Bamboo:       {"build"},
	integrations.ServiceNow:   {"ticket"},
	integrations.ManageEngine: {"ticket"},
}

// fuzzFamilies groups vendors by normalizer family, one fuzz target each.
var fuzzFamilies = map[string][]integrations.Vendor{
	"github":    {integrations.GitHub},
	"gitlab":    {integrations.GitLab},
	"bitbucket": {integrations.Bitbucket},
	"azure":     {integrations.AzureDevOps},
	"jira":      {integrations.Jira},
	"ci-tmpl":   {integrations.Jenkins, integrations.Bamboo},
	"tickets":   {integrations.ServiceNow, integrations.ManageEngine},
}

// seedFuzz adds every payload written for hookgate whose folder belongs to
// one of vendors, with each event name of its vendor.
func seedFuzz(f *testing.F, vendors []integrations.Vendor) {
	dir := filepath.Join("..", "testdata", "payloads")
	for _, rel := range payloadFiles(f, dir) {
		folder, _, _ := strings.Cut(rel, "/")
		v, _ := payloads.VendorOf(folder)
		idx := -1
		for i, want := range vendors {
			if want == v {
				idx = i
			}
		}
		if idx < 0 {
			continue
		}
		body, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			f.Fatal(err)
		}
		form := strings.HasSuffix(rel, ".txt")
		for _, ev := range fuzzEvents[v] {
			f.Add(uint8(idx), ev, form, body)
		}
	}
	f.Add(uint8(0), "push", false, []byte(`{"ref":"refs/tags/`+strings.Repeat("\\u00e9", 600)+`","after":"1"}`))
	f.Add(uint8(0), "push", false, []byte(strings.Repeat(`{"a":`, 70)))
}

// fuzzNormalize runs one input: no panic, only ErrMalformed errors, and
// results that keep the package's promises.
func fuzzNormalize(t *testing.T, vendors []integrations.Vendor, idx uint8, event string, form bool, body []byte) {
	v := vendors[int(idx)%len(vendors)]
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if form {
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	switch v {
	case integrations.GitHub:
		h.Set("X-GitHub-Event", event)
	case integrations.GitLab:
		h.Set("X-Gitlab-Event", event)
	case integrations.Bitbucket:
		h.Set("X-Event-Key", event)
	}
	id := Identify(v, v.DefaultScheme(), h, body)
	if id.Event == "" && !v.IsCI() {
		id.Event = event
	}
	d := Delivery{Vendor: v, Integration: "fz", Header: h, Body: body, Identity: id,
		DeliveryKey: DeliveryKey("fz", id.Delivery, body), Signature: "valid", Via: "webhook", ReceivedAt: testReceived}
	n, err := NormalizeDelivery(d)
	evs, ign, reason := n.Events, n.Ignored, n.Reason
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v is not ErrMalformed", err)
		}
		if len(evs) != 0 || ign || !n.Facts.EventTime.IsZero() || n.Facts.Targets != nil {
			t.Fatal("events, ignored or facts with an error")
		}
		return
	}
	if ign != (len(evs) == 0) || (ign && reason == "") {
		t.Fatalf("ignored=%v reason=%q events=%d", ign, reason, len(evs))
	}
	if at := n.Facts.EventTime; !at.IsZero() && at.Location() != time.UTC {
		t.Fatalf("event time %v not in UTC", at)
	}
	for _, s := range n.Facts.Targets {
		if s == "" || len(s) > MaxFieldLen || !utf8.ValidString(s) {
			t.Fatalf("empty, unbounded or invalid target (%d bytes)", len(s))
		}
	}
	for _, e := range evs {
		if e.ID == "" || e.Type == "" || e.OccurredAt.IsZero() {
			t.Fatalf("incomplete event %+v", e)
		}
		for _, s := range eventStrings(e) {
			if len(s) > MaxCommentLen || !utf8.ValidString(s) {
				t.Fatalf("unbounded or invalid string (%d bytes)", len(s))
			}
		}
	}
	rec := integrations.Record{Vendor: v, Branches: []string{"main", "release/*"}, Scans: []string{"sast"}, Pipeline: true}
	all, action := Orchestrate(rec, evs)
	if action == "" || len(all) < len(evs) {
		t.Fatalf("orchestrate gave %d events, action %q", len(all), action)
	}
	if _, err := json.Marshal(all); err != nil {
		t.Fatal(err)
	}
}

func eventStrings(e Event) []string {
	out := []string{e.Source.Event, e.Source.Delivery}
	if c := e.CI; c != nil {
		out = append(out, c.Repository, c.Branch, c.Commit, c.Actor, c.URL)
		for _, s := range out {
			if len(s) > MaxFieldLen {
				return []string{strings.Repeat("x", MaxCommentLen+1)}
			}
		}
	}
	if tk := e.Ticket; tk != nil {
		out = append(out, tk.Key, tk.Status, tk.StatusCategory)
		for _, s := range out {
			if len(s) > MaxFieldLen {
				return []string{strings.Repeat("x", MaxCommentLen+1)}
			}
		}
		if tk.Comment != nil {
			if len(tk.Comment.Author) > MaxFieldLen {
				return []string{strings.Repeat("x", MaxCommentLen+1)}
			}
			out = append(out, tk.Comment.Body)
		}
	}
	return out
}

func fuzzFamily(f *testing.F, family string) {
	vendors := fuzzFamilies[family]
	seedFuzz(f, vendors)
	f.Fuzz(func(t *testing.T, idx uint8, event string, form bool, body []byte) {
		fuzzNormalize(t, vendors, idx, event, form, body)
	})
}

// fuzzVendorOrder is the order in which FuzzNormalize's index picks the
// vendors: the order integrations.Vendors() listed them in when inputs were
// first written (before the registry sorted them by name), so a seed keeps
// exercising the vendor it was written for.
var fuzzVendorOrder = []integrations.Vendor{
	integrations.GitHub, integrations.GitLab, integrations.Jira, integrations.ServiceNow, integrations.ManageEngine,
	integrations.Jenkins, integrations.AzureDevOps, integrations.Bamboo, integrations.Bitbucket,
}

// fuzzVendors lists every registered vendor for FuzzNormalize: those of
// fuzzVendorOrder in that order, then any other, sorted by name.
func fuzzVendors(f *testing.F) []integrations.Vendor {
	var vendors []integrations.Vendor
	for _, v := range fuzzVendorOrder {
		if !v.Known() {
			f.Fatalf("vendor %q of fuzzVendorOrder is not registered", v)
		}
		vendors = append(vendors, v)
	}
	for _, v := range integrations.Vendors() {
		if !slices.Contains(vendors, v) {
			vendors = append(vendors, v)
		}
	}
	return vendors
}

// FuzzNormalize covers every vendor, chosen by index.
func FuzzNormalize(f *testing.F) {
	vendors := fuzzVendors(f)
	seedFuzz(f, vendors)
	f.Fuzz(func(t *testing.T, idx uint8, event string, form bool, body []byte) {
		fuzzNormalize(t, vendors, idx, event, form, body)
	})
}

// FuzzNormalizeGitHub covers GitHub, JSON and form-encoded.
func FuzzNormalizeGitHub(f *testing.F) { fuzzFamily(f, "github") }

// FuzzNormalizeGitLab covers GitLab, system hooks included.
func FuzzNormalizeGitLab(f *testing.F) { fuzzFamily(f, "gitlab") }

// FuzzNormalizeBitbucket covers Bitbucket Cloud and Data Center.
func FuzzNormalizeBitbucket(f *testing.F) { fuzzFamily(f, "bitbucket") }

// FuzzNormalizeAzureDevOps covers Azure DevOps service hooks.
func FuzzNormalizeAzureDevOps(f *testing.F) { fuzzFamily(f, "azure") }

// FuzzNormalizeJira covers Jira, ADF comment bodies included.
func FuzzNormalizeJira(f *testing.F) { fuzzFamily(f, "jira") }

// FuzzNormalizeCITemplates covers Jenkins and Bamboo.
func FuzzNormalizeCITemplates(f *testing.F) { fuzzFamily(f, "ci-tmpl") }

// FuzzNormalizeTicketTemplates covers ServiceNow and ManageEngine.
func FuzzNormalizeTicketTemplates(f *testing.F) { fuzzFamily(f, "tickets") }

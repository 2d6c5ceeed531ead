package caddymodule

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// A token scheme's integration gets the replay advice once, naming the
// vendor's body MAC; a body-MAC integration gets none.
func TestReplayAdviceOncePerIntegration(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	logger := zap.New(core)
	ra := new(replayAdvice)
	gl := integrations.Record{ID: "gl", Vendor: integrations.GitLab, Secret: "t", Active: true}
	jira := integrations.Record{ID: "jira", Vendor: integrations.Jira, Secret: "t", Active: true}
	gh := integrations.Record{ID: "gh", Vendor: integrations.GitHub, Secret: "s", Active: true}
	jenkins := integrations.Record{ID: "jk", Vendor: integrations.Jenkins, Secret: "s", Active: true}
	for range 3 {
		for _, rec := range []*integrations.Record{&gl, &jira, &gh, &jenkins} {
			ra.advise(logger, rec)
		}
	}
	got := map[string]string{}
	for _, e := range logs.All() {
		m := e.ContextMap()
		got[m["integration"].(string)] += "|" + func() string { s, _ := m["prefer_scheme"].(string); return s }()
	}
	want := map[string]string{"gl": "|signing", "jira": "|hmac", "jk": "|"}
	if len(got) != len(want) {
		t.Fatalf("advice logged for %v, want %v", got, want)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q (once)", id, got[id], w)
		}
	}
	for _, e := range logs.All() {
		for _, f := range e.Context {
			if f.String == "t" || f.String == "s" {
				t.Errorf("advice logs a secret: %v", e.Context)
			}
		}
	}
}

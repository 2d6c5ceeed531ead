package integrations_test

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	_ "github.com/hookgate/caddy-hookgate/vendors/all"

	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFromData(t *testing.T) {
	r, err := integrations.FromData("pay-gh", map[string]any{
		"vendor":               "github",
		"secret":               "s1",
		"previous_secret":      "s0",
		"previous_valid_until": "2026-11-29T00:00:00Z",
		"branches":             "main, release/*",
		"scans":                []any{"sast", "sca"},
		"active":               "false",
		"pipeline":             true,
		"done_states":          []any{json.Number("6"), float64(7)},
		"note":                 "unknown fields are ignored",
	}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if r.Vendor != integrations.GitHub || r.Secret != "s1" || r.Active || !r.Pipeline || r.Version != 3 {
		t.Fatalf("record: %+v", r)
	}
	if strings.Join(r.Branches, "|") != "main|release/*" || strings.Join(r.Scans, "|") != "sast|sca" || strings.Join(r.DoneStates, "|") != "6|7" {
		t.Fatalf("lists: %q %q %q", r.Branches, r.Scans, r.DoneStates)
	}
	until := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	if !r.PreviousActive(until.Add(-time.Second)) || r.PreviousActive(until) {
		t.Fatal("previous secret window")
	}
	if r.EffectiveScheme() != integrations.SchemeHMAC {
		t.Fatalf("default scheme %q", r.EffectiveScheme())
	}
}

// tolerance is read from the record; a record without one has the
// default, and dedupe_window caps it.
func TestFromDataTolerance(t *testing.T) {
	r, err := integrations.FromData("gl", map[string]any{"vendor": "gitlab", "scheme": "signing", "tolerance": "20m"}, 1)
	if err != nil || r.Tolerance != 20*time.Minute || r.EffectiveTolerance(72*time.Hour) != 20*time.Minute || r.EffectiveTolerance(10*time.Minute) != 10*time.Minute {
		t.Fatalf("tolerance 20m: %v %v", r.Tolerance, err)
	}
	r, err = integrations.FromData("gl", map[string]any{"vendor": "gitlab"}, 1)
	if err != nil || r.EffectiveTolerance(0) != integrations.DefaultTolerance {
		t.Fatalf("default tolerance: %v %v", r.EffectiveTolerance(0), err)
	}
}

func TestFromDataRefuses(t *testing.T) {
	for name, data := range map[string]map[string]any{
		"no vendor":           {"secret": "x"},
		"unknown vendor":      {"vendor": "svn"},
		"scheme of another":   {"vendor": "github", "scheme": "token"},
		"bad bool":            {"vendor": "github", "active": "maybe"},
		"bad time":            {"vendor": "github", "previous_secret": "a", "previous_valid_until": "tomorrow"},
		"previous no until":   {"vendor": "github", "previous_secret": "a"},
		"secret not a string": {"vendor": "github", "secret": 42},
		"unknown scan":        {"vendor": "github", "scans": "dast"},
		"list of objects":     {"vendor": "github", "branches": []any{map[string]any{}}},
		"bad tolerance":       {"vendor": "gitlab", "tolerance": "a while"},
		"tolerance too long":  {"vendor": "gitlab", "tolerance": "80h"},
	} {
		_, err := integrations.FromData("x", data, 1)
		if !errors.Is(err, integrations.ErrInvalidRecord) {
			t.Errorf("%s: err = %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret\": 42") {
			t.Errorf("%s: error echoes a value", name)
		}
	}
}

func TestValidID(t *testing.T) {
	ok := []string{"a", "A0", "demo-gh", "x.y_z-1", strings.Repeat("a", 128)}
	bad := []string{"", "-a", ".a", "_a", "a/b", "a b", "é", "a\x00", strings.Repeat("a", 129), "..", "a%2F"}
	for _, id := range ok {
		if !integrations.ValidID(id) {
			t.Errorf("ValidID(%q) = false", id)
		}
	}
	for _, id := range bad {
		if integrations.ValidID(id) {
			t.Errorf("ValidID(%q) = true", id)
		}
	}
}

func FuzzValidID(f *testing.F) {
	for _, s := range []string{"demo-gh", "-a", "a/../b", "é", strings.Repeat("z", 129)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !integrations.ValidID(id) {
			return
		}
		if len(id) > integrations.MaxIDLen || strings.ContainsAny(id, "/\\ \x00%?#") || strings.HasPrefix(id, ".") {
			t.Fatalf("ValidID accepted %q", id)
		}
	})
}

func TestVendorTable(t *testing.T) {
	for _, v := range integrations.Vendors() {
		if !v.Known() || !v.Supports(v.DefaultScheme()) {
			t.Errorf("%s: default scheme %q", v, v.DefaultScheme())
		}
	}
	if integrations.GitHub.ReceiverPath("x") != "/webhooks/ci/github/x" || integrations.Jira.ReceiverPath("x") != "/webhooks/jira/x" {
		t.Error("receiver paths")
	}
	if integrations.Vendor("svn").Known() || integrations.Jira.IsCI() || !integrations.Bamboo.IsCI() {
		t.Error("vendor classes")
	}
}

package caddymodule

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// updateGolden rewrites the expected JSON of every golden adapt test from
// what the adapter gives now: `go test ./caddymodule -run TestAdaptGolden
// -update`, then read the diff before committing it.
var updateGolden = flag.Bool("update", false, "rewrite testdata/adapt/*.caddytest from the adapter's output")

// goldenSeparator divides a .caddytest file: the Caddyfile above, the JSON
// it must adapt to below (the layout of caddy-l4's adapt tests).
const goldenSeparator = "\n----------\n"

// readGolden splits a .caddytest file into its Caddyfile and expected JSON.
func readGolden(t *testing.T, path string) (caddyfile, want string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	caddyfile, want, ok := strings.Cut(string(raw), goldenSeparator)
	if !ok {
		t.Fatalf("%s: no %q line between the Caddyfile and the JSON", path, strings.TrimSpace(goldenSeparator))
	}
	return caddyfile + "\n", want
}

// TestAdaptGolden adapts every Caddyfile under testdata/adapt and wants
// exactly the JSON written below it, with secrets never resolved at
// adapt time ({env.*} and {file.*} stay placeholders).
func TestAdaptGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "adapt", "*.caddytest"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden adapt tests: %v", err)
	}
	// Values in the environment at adapt time must not reach the JSON.
	leaks := map[string]string{
		"VAULT_TOKEN": "hvs.adapt-time-leak", "REDIS_PASSWORD": "redis-adapt-time-leak",
		"DEMO_GH_SECRET": "demo-adapt-time-leak", "FINDINGS_TOKEN": "findings-adapt-time-leak",
		"ROLE_ID": "role-adapt-time-leak", "JIRA_OLD": "jira-old-adapt-time-leak",
	}
	for k, v := range leaks {
		t.Setenv(k, v)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".caddytest"), func(t *testing.T) {
			caddyfile, want := readGolden(t, path)
			out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
			if err != nil {
				t.Fatalf("adapt: %v", err)
			}
			for _, v := range leaks {
				if bytes.Contains(out, []byte(v)) {
					t.Errorf("adapted JSON contains the environment value %q", v)
				}
			}
			var got any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if *updateGolden {
				pretty, _ := json.MarshalIndent(got, "", "\t")
				body := strings.TrimSuffix(caddyfile, "\n") + goldenSeparator + string(pretty) + "\n"
				if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			var exp any
			if err := json.Unmarshal([]byte(want), &exp); err != nil {
				t.Fatalf("%s: the expected JSON does not parse: %v", path, err)
			}
			if !reflect.DeepEqual(got, exp) {
				pretty, _ := json.MarshalIndent(got, "", "\t")
				t.Errorf("%s adapts to\n%s\nwhich is not the JSON in the file (run with -update and read the diff)", path, pretty)
			}
		})
	}
}

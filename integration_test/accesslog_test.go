package integration_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testcaddy"
)

// accessLogWarning starts the message hookgate logs for a leaking access
// log.
const accessLogWarning = "Caddy's access log would record credentials hookgate receives"

// TestAccessLogWithoutFiltersIsWarnedAbout: a site whose access log has
// no filters gets one warning in Caddy's log at start, naming the server,
// the log, the credentials and the exact filter lines; and it is true: a
// GitLab and a Jira token delivery then write their tokens to that access
// log. With the README's filters there is no warning and no token in the
// access log.
func TestAccessLogWithoutFiltersIsWarnedAbout(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format string
		warned bool
	}{
		{"no filters", "", true},
		{"README filters", "\n" + accessLogFilters, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			accessLog := filepath.Join(dir, "access.log")
			admin := fmt.Sprintf("127.0.0.1:%d", testcaddy.FreePort(t))
			port := testcaddy.FreePort(t)
			cfg := fmt.Sprintf(`{
	admin %s
	auto_https off
	persist_config off
	hookgate {
		max_age off # the fixtures are of many dates
		integration al-gitlab {
			vendor gitlab
			secret {env.AL_GITLAB_SECRET}
		}
		integration al-jira {
			vendor jira
			secret {env.AL_JIRA_SECRET}
		}
	}
}

:%d {
	log {
		output file %s%s
	}
	route /webhooks/* {
		hookgate
		respond 202
	}
}
`, admin, port, accessLog, tc.format)
			env := []string{"AL_GITLAB_SECRET=" + secretFor("al-gitlab"), "AL_JIRA_SECRET=" + secretFor("al-jira")}
			in := testcaddy.Start(t, admin, cfg, env, fmt.Sprintf("127.0.0.1:%d", port))
			// Caddy says this once the whole config, every app's Start
			// among it, is running.
			eventually(t, 30*time.Second, "the config served", func() bool {
				return strings.Contains(in.Log(), "serving initial configuration")
			})

			var warnings []map[string]any
			for line := range strings.Lines(in.Log()) {
				if !strings.Contains(line, accessLogWarning) {
					continue
				}
				var e map[string]any
				if err := json.Unmarshal([]byte(line), &e); err != nil {
					t.Fatalf("warning is no JSON log entry: %v\n%s", err, line)
				}
				warnings = append(warnings, e)
			}
			if !tc.warned {
				if len(warnings) != 0 {
					t.Fatalf("warned about a filtered access log: %v", warnings)
				}
			} else {
				if len(warnings) != 1 {
					t.Fatalf("%d warnings, want 1:\n%s", len(warnings), in.Log())
				}
				w := warnings[0]
				creds, _ := w["credentials"].([]any)
				wantLines := "format filter {\n\twrap json\n\tfields {\n\t\trequest>uri query {\n\t\t\tdelete token\n\t\t}\n\t\trequest>headers>X-Gitlab-Token delete\n\t}\n}"
				if w["level"] != "warn" || w["logger"] != "hookgate" || w["server"] != "srv0" || w["log"] != "log0" ||
					!slices.Equal(creds, []any{"query parameter token", "header X-Gitlab-Token"}) || w["caddyfile"] != wantLines {
					t.Fatalf("warning %v", w)
				}
			}

			// The warning tells the truth about the access log.
			base := fmt.Sprintf("http://127.0.0.1:%d", port)
			for _, d := range []struct {
				id string
				v  integrations.Vendor
			}{{"al-gitlab", integrations.GitLab}, {"al-jira", integrations.Jira}} {
				vc := caseFor(t, d.v)
				body := ownBody(readPayload(t, vc.payload), d.id+"-delivery")
				req := signed(t, base+d.v.ReceiverPath(d.id), d.v, d.v.DefaultScheme(), secretFor(d.id), body, deliveryHeaders(vc, d.id+"-delivery"))
				if resp, got := do(t, req); resp.StatusCode != 202 {
					t.Fatalf("%s: %d %s", d.id, resp.StatusCode, got)
				}
			}
			var logged string
			eventually(t, 10*time.Second, "both deliveries in the access log", func() bool {
				logged = readLines(t, accessLog, "handled request")
				return strings.Count(logged, "handled request") == 2
			})
			for _, id := range []string{"al-gitlab", "al-jira"} {
				if got := strings.Contains(logged, secretFor(id)); got != tc.warned {
					t.Errorf("%s's token in the access log: %v, want %v\n%s", id, got, tc.warned, logged)
				}
			}
		})
	}
}

// readLines is the lines of the file at path that contain sub; none
// while it does not exist yet.
func readLines(t *testing.T, path, sub string) string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		if strings.Contains(s.Text(), sub) {
			b.WriteString(s.Text() + "\n")
		}
	}
	return b.String()
}

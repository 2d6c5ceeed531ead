package jenkins

import (
	"testing"

	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// factsWant is the event time each sample states (RFC 3339); a sample not
// listed states none.
var factsWant = map[string]payloads.Facts{
	"jenkins/build-finalized.json": {At: "2025-03-04T14:39:45.233Z"}, // build.timestamp + build.duration
	"jenkins/build-started.json":   {At: "2025-03-04T15:43:21Z"},     // STARTED: no duration yet
	"sample.go":                    {At: "2025-03-04T14:05:11.001Z"},
}

// TestFacts: the notification plugin's body states build.timestamp plus
// build.duration (ms), when the build finished in the FINALIZED phase and
// the start alone in earlier ones (stated though they are ignored); it
// names no repository or project to bind a target to.
func TestFacts(t *testing.T) {
	payloads.CheckFacts(t, payloads.WithSample(t, Vendor, sample, "jenkins"), factsWant)
}

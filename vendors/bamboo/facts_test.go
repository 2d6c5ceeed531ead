package bamboo

import (
	"testing"

	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// factsWant is the event time each sample states (RFC 3339); a sample not
// listed states none.
var factsWant = map[string]payloads.Facts{
	"bamboo/build-failed--full.json": {At: "2025-03-04T17:02:33Z"},
	// build-completed.json and the sample carry no finishedAt.
}

// TestFacts: the documented template states finishedAt when it reads as
// a time (an unsubstituted ${bamboo...} variable does not); it names no
// repository or project to bind a target to.
func TestFacts(t *testing.T) {
	payloads.CheckFacts(t, payloads.WithSample(t, Vendor, sample, "bamboo"), factsWant)
}

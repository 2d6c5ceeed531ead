package manageengine

import (
	"testing"

	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// factsWant is the event time each sample states (RFC 3339); a sample not
// listed states none.
var factsWant = map[string]payloads.Facts{
	"manageengine/request-closed.json":      {At: "2025-03-04T14:25:11Z"},
	"manageengine/request-in-progress.json": {At: "2025-03-03T14:25:11Z"},
	"sample.go":                             {At: "2025-03-04T14:05:11Z"},
}

// TestFacts: the documented template states
// request.last_updated_time.value (ms since the epoch); a ticket names no
// repository or project to bind a target to.
func TestFacts(t *testing.T) {
	payloads.CheckFacts(t, payloads.WithSample(t, Vendor, sample, "manageengine"), factsWant)
}

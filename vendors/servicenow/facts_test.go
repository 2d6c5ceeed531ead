package servicenow

import (
	"testing"

	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// factsWant is the event time each sample states (RFC 3339); a sample not
// listed states none.
var factsWant = map[string]payloads.Facts{
	"servicenow/incident-commented.json":   {At: "2025-03-03T10:02:55Z"},
	"servicenow/incident-in-progress.json": {At: "2025-03-03T09:40:27Z"},
	"servicenow/incident-resolved.json":    {At: "2025-03-04T14:05:11Z"},
	"sample.go":                            {At: "2025-03-04T14:05:11Z"},
}

// TestFacts: the documented template states sys_updated_on (UTC,
// yyyy-MM-dd HH:mm:ss); a ticket names no repository or project to bind a
// target to.
func TestFacts(t *testing.T) {
	payloads.CheckFacts(t, payloads.WithSample(t, Vendor, sample, "servicenow"), factsWant)
}

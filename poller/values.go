package poller

import (
	"bytes"
	"encoding/json"
	"time"
)

// timeLayouts are the ticket vendors' timestamp spellings.
var timeLayouts = []string{
	"2006-01-02T15:04:05.999999999Z0700", // Jira
	time.RFC3339Nano,
	"2006-01-02 15:04:05", // ServiceNow (UTC)
}

// ParseTime reads a vendor timestamp in UTC: Jira's ISO 8601 form with a
// numeric zone (2025-03-04T14:33:42.000+0000), RFC 3339, or ServiceNow's
// zone-less UTC form (2025-03-04 14:05:11). Other spellings give the zero
// time.
func ParseTime(s string) time.Time {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// FlexText reads a JSON string or number as text (vendors spell ids and
// states either way); anything else is "".
func FlexText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

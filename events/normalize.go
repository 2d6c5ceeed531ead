package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	gojson "github.com/goccy/go-json"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Bounds on what Normalize accepts and copies. Bodies are verified, but a
// verified sender can still be careless or compromised.
const (
	// MaxDepth is the deepest JSON nesting Normalize parses; deeper bodies
	// are ErrMalformed before any unmarshalling.
	MaxDepth = 64
	// MaxFieldLen caps every string copied into an event except comment
	// bodies.
	MaxFieldLen = 1 << 10
	// MaxCommentLen caps comment bodies.
	MaxCommentLen = 4 << 10
)

// normalizer turns one vendor's delivery into events. It returns no events
// and a reason when the delivery is deliberately ignored.
type normalizer func(in *input) (evs []Event, reason string, err error)

// normalizers is the one table of vendors; each vendor's file holds its
// function.
var normalizers = map[integrations.Vendor]normalizer{
	integrations.GitHub:       normalizeGitHub,
	integrations.GitLab:       normalizeGitLab,
	integrations.Bitbucket:    normalizeBitbucket,
	integrations.AzureDevOps:  normalizeAzureDevOps,
	integrations.Jenkins:      normalizeJenkins,
	integrations.Bamboo:       normalizeBamboo,
	integrations.Jira:         normalizeJira,
	integrations.ServiceNow:   normalizeServiceNow,
	integrations.ManageEngine: normalizeManageEngine,
}

// Normalize turns a verified delivery into its primary events: ci.* for CI
// vendors, ticket.* for ticket vendors. A delivery whose vendor event means
// nothing here (a GitHub star, a Bitbucket comment, a Jira edit that
// changes no status) is ignored: no events, ignored true and a reason, no
// error. A body that is not the JSON the event needs is ErrMalformed. Which
// vendor events yield what is listed in TEMPLATES.md and the vendor files.
func Normalize(d Delivery) (evs []Event, ignored bool, reason string, err error) {
	fn, ok := normalizers[d.Vendor]
	if !ok {
		return nil, true, fmt.Sprintf("unknown vendor %q", capString(string(d.Vendor), 64)), nil
	}
	in := &input{d: d, body: d.Body, event: d.Identity.Event}
	if err := checkJSON(in.body); err != nil {
		return nil, false, "", err
	}
	evs, reason, err = fn(in)
	if err != nil {
		return nil, false, "", err
	}
	if len(evs) == 0 {
		if reason == "" {
			reason = "no events"
		}
		return nil, true, reason, nil
	}
	return evs, false, "", nil
}

// input is one delivery on its way through a normalizer.
type input struct {
	d     Delivery
	body  []byte
	event string // vendor event name; Identity.Event unless a normalizer knows better
}

// source is the Source of every event of this delivery.
func (in *input) source() Source {
	return Source{
		Vendor:      string(in.d.Vendor),
		Integration: in.d.Integration,
		Event:       capString(in.event, MaxFieldLen),
		Delivery:    capString(in.d.Identity.Delivery, MaxFieldLen),
		Via:         in.d.Via,
		Signature:   in.d.Signature,
		ReceivedAt:  in.d.ReceivedAt,
	}
}

// when is t, or the receive time when the vendor gave none.
func (in *input) when(t time.Time) time.Time {
	if t.IsZero() {
		return in.d.ReceivedAt
	}
	return t
}

// ciEvent builds one CI event; ref keeps the ids of a multi-ref push apart.
func (in *input) ciEvent(typ, ref string, at time.Time, ci CI) Event {
	ci.Repository = capString(ci.Repository, MaxFieldLen)
	ci.Branch = capString(ci.Branch, MaxFieldLen)
	ci.Commit = capString(ci.Commit, MaxFieldLen)
	ci.Actor = capString(ci.Actor, MaxFieldLen)
	ci.URL = capString(ci.URL, MaxFieldLen)
	return Event{
		ID:         EventID(in.d.DeliveryKey, typ, ref),
		Type:       typ,
		OccurredAt: in.when(at),
		Source:     in.source(),
		CI:         &ci,
	}
}

// statusEvent builds a ticket.status_changed event whose id converges with
// a poll of the same change.
// Without a vendor change time the id falls back to the delivery key: stable
// across the vendor's retries, though a poll cannot converge with it.
func (in *input) statusEvent(key, status, category string, changedAt time.Time) Event {
	id := TicketEventID(in.d.Integration, key, status, changedAt)
	if changedAt.IsZero() {
		id = EventID(in.d.DeliveryKey, TypeTicketStatus, key, status)
	}
	return Event{
		ID:         id,
		Type:       TypeTicketStatus,
		OccurredAt: in.when(changedAt),
		Source:     in.source(),
		Ticket: &Ticket{
			Key:            capString(key, MaxFieldLen),
			Status:         capString(status, MaxFieldLen),
			StatusCategory: capString(category, MaxFieldLen),
		},
	}
}

// commentEvent builds a ticket.comment event; version identifies the
// comment (and its edit) as TicketCommentID describes.
func (in *input) commentEvent(key, version, status, category, author, body string, at time.Time) Event {
	return Event{
		ID:         TicketCommentID(in.d.Integration, key, version),
		Type:       TypeTicketComment,
		OccurredAt: in.when(at),
		Source:     in.source(),
		Ticket: &Ticket{
			Key:            capString(key, MaxFieldLen),
			Status:         capString(status, MaxFieldLen),
			StatusCategory: capString(category, MaxFieldLen),
			Comment: &Comment{
				Author: capString(author, MaxFieldLen),
				Body:   capString(body, MaxCommentLen),
			},
		},
	}
}

// versionSuffix names a comment version by its time in unix seconds, or,
// without one, by the delivery key (stable across the vendor's retries).
func (in *input) versionSuffix(at time.Time) string {
	if at.IsZero() {
		return "d:" + in.d.DeliveryKey
	}
	return strconv.FormatInt(at.UTC().Unix(), 10)
}

// checkJSON rejects what must never reach the unmarshaller: invalid UTF-8
// and nesting deeper than MaxDepth. It is one pass over the bytes.
func checkJSON(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty body", ErrMalformed)
	}
	if !utf8.Valid(b) {
		return fmt.Errorf("%w: invalid UTF-8", ErrMalformed)
	}
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			// Jump to the closing quote: the next '"' not escaped by an
			// odd run of backslashes. IndexByte is vectorized, so long
			// strings (commit messages, bodies) cost little.
			j := i + 1
			for {
				k := bytes.IndexByte(b[j:], '"')
				if k < 0 {
					return nil // unterminated: the decoder rejects it
				}
				q := j + k
				n := 0
				for p := q - 1; p > i && b[p] == '\\'; p-- {
					n++
				}
				if n%2 == 0 {
					i = q
					break
				}
				j = q + 1
			}
		case '{', '[':
			depth++
			if depth > MaxDepth {
				return fmt.Errorf("%w: nested deeper than %d", ErrMalformed, MaxDepth)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// decode unmarshals the body into v; every failure is ErrMalformed.
func decode(b []byte, v any) error {
	if err := gojson.Unmarshal(b, v); err != nil {
		var te *gojson.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%w: field %q: wrong type", ErrMalformed, capString(te.Field, 128))
		}
		return fmt.Errorf("%w: not JSON", ErrMalformed)
	}
	return nil
}

func malformed(what string) error {
	return fmt.Errorf("%w: %s", ErrMalformed, what)
}

// capString cuts s to at most n bytes without splitting a rune. Bytes that
// are not UTF-8 become U+FFFD first: every string an event or a reason
// carries is valid UTF-8, whatever a decoder upstream let through.
func capString(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}

// branchOf strips refs/heads/ from a ref.
func branchOf(ref string) string {
	return strings.TrimPrefix(ref, "refs/heads/")
}

// zeroSHA reports whether s is Git's all-zero object id (a deleted ref).
func zeroSHA(s string) bool {
	if s == "" {
		return false
	}
	return strings.Trim(s, "0") == ""
}

// refKind classifies a full ref for push events: a branch push yields
// ci.push with the branch name, a tag push ci.tag with the full tag ref.
// Other refs (notes, pull refs) yield nothing.
func refKind(ref string) (typ, branch string) {
	switch {
	case strings.HasPrefix(ref, "refs/heads/"):
		return TypePush, branchOf(ref)
	case strings.HasPrefix(ref, "refs/tags/"):
		return TypeTag, ref
	}
	return "", ""
}

// timeLayouts are the vendors' timestamp spellings.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700", // Jira, Bitbucket Data Center
	"2006-01-02 15:04:05 MST",            // GitLab pipelines
	"2006-01-02 15:04:05 -0700",          // GitLab
	"2006-01-02 15:04:05",                // ServiceNow (UTC)
}

// parseTime reads a vendor timestamp; unknown spellings give the zero time
// (and so the receive time).
func parseTime(s string) time.Time {
	if s == "" || len(s) > 64 {
		return time.Time{}
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// msTime reads milliseconds since the epoch; out-of-range values give the
// zero time.
func msTime(ms int64) time.Time {
	if ms <= 0 || ms > 1<<53 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

var (
	flexStringType = reflect.TypeFor[flexString]()
	flexIntType    = reflect.TypeFor[flexInt]()
)

// flexString is a JSON string that vendors sometimes send as a number.
type flexString string

// UnmarshalJSON accepts a string, a number or null.
func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return &json.UnmarshalTypeError{Value: "value", Type: flexStringType}
	}
	*f = flexString(n.String())
	return nil
}

// flexInt is a JSON integer that template vendors sometimes send as a string.
type flexInt int64

// UnmarshalJSON accepts an integer, a string holding one, or null.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		if fl, ferr := strconv.ParseFloat(string(s), 64); ferr == nil && fl >= -1<<62 && fl <= 1<<62 {
			*f = flexInt(fl)
			return nil
		}
		return &json.UnmarshalTypeError{Value: "value", Type: flexIntType}
	}
	*f = flexInt(n)
	return nil
}

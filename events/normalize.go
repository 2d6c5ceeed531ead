package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-json/jsontext"
	gojson "github.com/goccy/go-json/v2"
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
	// MaxRefChanges bounds the ref changes one push delivery may carry
	// (Bitbucket push.changes, Bitbucket Data Center changes, Azure DevOps
	// refUpdates); a normalizer answers more with Malformed rather than a
	// silent cut.
	MaxRefChanges = 1000
)

// Normalize turns a verified delivery into its primary events: ci.* for CI
// vendors, ticket.* for ticket vendors. It is NormalizeDelivery without the
// facts of the signed body.
func Normalize(d Delivery) (evs []Event, ignored bool, reason string, err error) {
	n, err := NormalizeDelivery(d)
	return n.Events, n.Ignored, n.Reason, err
}

// Normalized is what NormalizeDelivery made of one delivery.
type Normalized struct {
	// Events are the delivery's primary events; none when it is ignored.
	Events []Event
	// Ignored is a delivery whose vendor event means nothing here; Reason
	// says why.
	Ignored bool
	Reason  string
	// Facts are what the signed body states about the delivery, for the
	// checks delivery makes before anything moves (max_age, target).
	Facts Facts
}

// Facts are what a vendor's signed body states about the delivery itself,
// as its normalizer read them (Input.SetEventTime, Input.AddTarget).
type Facts struct {
	// EventTime is the vendor's own time of the event, read from the
	// signed body (each vendor's normalize.go says which field for which
	// event); zero when the body carries none, and then max_age is not
	// checked.
	EventTime time.Time
	// Targets are the names the body gives the repository or project the
	// delivery is about (GitHub and Bitbucket owner/repo, GitLab project
	// path and id, Azure DevOps project name and id); none when it names
	// none. A delivery to an integration with a target must name it.
	Targets []string
	// Hook is the vendor's id of the hook the body says sent it (GitHub's
	// ping names its hook_id); empty when it names none. Setup matches
	// the test delivery it asked for by it.
	Hook string
}

// NormalizeDelivery turns a verified delivery into its primary events and
// the facts its body states. A delivery whose vendor event means nothing
// here (a GitHub star, a Bitbucket comment, a Jira edit that changes no
// status) is ignored: no events, Ignored and a Reason, no error. A body
// that is not the JSON the event needs is ErrMalformed. The vendor's
// registered Rules.Normalize decides what its events yield (each vendor
// package's normalize.go lists it, TEMPLATES.md for the template vendors);
// a vendor without rules is ignored.
func NormalizeDelivery(d Delivery) (Normalized, error) {
	fn := registry[d.Vendor].Normalize
	if fn == nil {
		return Normalized{Ignored: true, Reason: fmt.Sprintf("unknown vendor %q", capString(string(d.Vendor), 64))}, nil
	}
	in := &Input{d: d, Body: d.Body, Event: d.Identity.Event}
	if err := CheckJSON(in.Body); err != nil {
		return Normalized{}, err
	}
	evs, reason, err := fn(in)
	if err != nil {
		return Normalized{}, err
	}
	n := Normalized{Events: evs, Facts: in.facts}
	if len(evs) == 0 {
		if reason == "" {
			reason = "no events"
		}
		n.Events, n.Ignored, n.Reason = nil, true, reason
	}
	return n, nil
}

// Input is one delivery on its way through a vendor's Rules.Normalize.
type Input struct {
	// Body is the JSON the normalizer decodes: the delivery's body, which
	// Normalize has passed through CheckJSON. A normalizer that unwraps
	// an envelope (GitHub's form encoding) replaces it, and passes the new
	// body through CheckJSON before decoding it.
	Body []byte
	// Event is the vendor event name the events' Source carries: the
	// delivery's Identity.Event unless the normalizer knows better (a body
	// that names its own kind) and sets it before building events.
	Event string

	d     Delivery
	facts Facts
}

// SetEventTime records the vendor's own time of the event, as the signed
// body states it (Facts.EventTime). A zero t records nothing.
func (in *Input) SetEventTime(t time.Time) {
	if !t.IsZero() {
		in.facts.EventTime = t.UTC()
	}
}

// AddTarget records the names the body gives the repository or project
// the delivery is about (Facts.Targets); empty names are skipped.
func (in *Input) AddTarget(names ...string) {
	for _, n := range names {
		if n != "" {
			in.facts.Targets = append(in.facts.Targets, capString(n, MaxFieldLen))
		}
	}
}

// SetHook records the vendor's id of the hook the signed body says sent
// the delivery (Facts.Hook), cut to MaxFieldLen.
func (in *Input) SetHook(id string) {
	in.facts.Hook = capString(id, MaxFieldLen)
}

// Header is the delivery's request header; nil for a polled delivery.
func (in *Input) Header() http.Header {
	return in.d.Header
}

// source is the Source of every event of this delivery.
func (in *Input) source() Source {
	return Source{
		Vendor:      string(in.d.Vendor),
		Integration: in.d.Integration,
		Event:       capString(in.Event, MaxFieldLen),
		Delivery:    capString(in.d.Identity.Delivery, MaxFieldLen),
		Via:         in.d.Via,
		Signature:   in.d.Signature,
		ReceivedAt:  in.d.ReceivedAt,
	}
}

// when is t, or the receive time when the vendor gave none.
func (in *Input) when(t time.Time) time.Time {
	if t.IsZero() {
		return in.d.ReceivedAt
	}
	return t
}

// CIEvent builds one CI event of type typ (a Type* constant) occurring at
// at (the receive time when zero). ref keeps the ids of the events of one
// delivery apart (the ref of each change of a multi-ref push; "" when
// there is one event). Strings are cut to MaxFieldLen.
func (in *Input) CIEvent(typ, ref string, at time.Time, ci CI) Event {
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

// StatusEvent builds the ticket.status_changed event of ticket key reaching
// status (with the vendor's status category, "" when it has none) at
// changedAt, the vendor's change time. Its id is TicketEventID, so it
// converges with a poll of the same change. Without a change time the id
// falls back to the delivery key: stable across the vendor's retries,
// though a poll cannot converge with it.
func (in *Input) StatusEvent(key, status, category string, changedAt time.Time) Event {
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

// CommentEvent builds the ticket.comment event of a comment on ticket key
// (whose current status and category are given when known) by author,
// made at at; version identifies the comment (and its edit) as
// TicketCommentID describes. The body is cut to MaxCommentLen.
func (in *Input) CommentEvent(key, version, status, category, author, body string, at time.Time) Event {
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

// VersionSuffix names a comment version by its time in unix seconds, or,
// without one, by the delivery key (stable across the vendor's retries).
func (in *Input) VersionSuffix(at time.Time) string {
	if at.IsZero() {
		return "d:" + in.d.DeliveryKey
	}
	return strconv.FormatInt(at.UTC().Unix(), 10)
}

// CheckJSON rejects what must never reach the unmarshaller, as
// ErrMalformed: an empty body, invalid UTF-8, nesting deeper than
// MaxDepth, and an object with a key twice: spelled alike, with other
// escapes (`"ref"`, `"r\u0065f"`), or differing only in case (`"ref"`,
// `"REF"`), at any depth (checkjson.go says why). It walks the body's tokens in
// one pass. Where the body stops being JSON (a form body before its
// payload is unwrapped, a truncated one) the walk stops, the keys of the
// objects it opened are still compared, and the rest is the decoder's to
// refuse, as is what the walk does not look into (numbers, literals, the
// escapes of values). Normalize runs it on every body; a normalizer runs
// it again on a body it unwrapped. Decode relies on it for the duplicate
// keys.
func CheckJSON(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty body", ErrMalformed)
	}
	if !utf8.Valid(b) {
		return fmt.Errorf("%w: invalid UTF-8", ErrMalformed)
	}
	ks := getKeyScratch()
	keys, err := checkTokens(b, ks.keys[:0], ks)
	ks.keys = keys
	putKeyScratch(ks)
	return err
}

// decodeOptions are Decode's semantics besides encoding/json/v2's
// defaults (names matched exactly, case included; unknown names skipped):
// duplicate names, with the keys that differ only in case, and invalid
// UTF-8 are CheckJSON's to refuse, in its one pass, so the decoder does not
// look for them again (which would cost it a third more on an 8 KiB push).
// A lone surrogate escape reads as U+FFFD, as encoding/json reads it; two
// keys that differ only there are one key to CheckJSON.
var decodeOptions = gojson.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

// Decode unmarshals the JSON body b (already through CheckJSON) into v, a
// pointer to the struct of the fields the event needs, in one pass, with
// the semantics of encoding/json/v2 (decodeOptions): a field matches a key
// of exactly its name, case included, and unknown keys are skipped. Every
// failure is ErrMalformed, naming the field of the wrong type when there
// is one.
func Decode(b []byte, v any) error {
	if err := gojson.Unmarshal(b, v, decodeOptions); err != nil {
		return decodeError(err)
	}
	return nil
}

// decodeError is ErrMalformed for what the decoder reported.
func decodeError(err error) error {
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		if errors.Is(syn.Err, jsontext.ErrDuplicateName) {
			return errDuplicateKey
		}
		return errNotJSON
	}
	var se *gojson.SemanticError
	if errors.As(err, &se) {
		return fmt.Errorf("%w: field %q: wrong type", ErrMalformed, capString(fieldPath(se.JSONPointer), 128))
	}
	return errNotJSON
}

// fieldPath spells a JSON pointer as the dotted path of its names,
// `repository.full_name`, as errors named fields before issue 12.
func fieldPath(p jsontext.Pointer) string {
	var sb strings.Builder
	for tok := range p.Tokens() {
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(tok)
		if sb.Len() > 128 {
			break
		}
	}
	return sb.String()
}

// Malformed is ErrMalformed for a body that lacks what its event needs;
// what says which (a fixed phrase: it goes to logs and audit entries).
func Malformed(what string) error {
	return fmt.Errorf("%w: %s", ErrMalformed, what)
}

// QuoteName quotes a vendor-supplied name (an event, action, ref or
// status) for a reason string: bounded to 64 bytes, with quotes,
// backslashes and bytes that are not printable ASCII replaced by `?`.
func QuoteName(s string) string {
	return `"` + capString(sanitizeReason(s), 64) + `"`
}

// sanitizeReason keeps reasons printable: they go to logs and audit entries.
func sanitizeReason(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] < 0x20 || b[j] > 0x7e || b[j] == '"' || b[j] == '\\' {
					b[j] = '?'
				}
			}
			return string(b)
		}
	}
	return s
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

// BranchOf strips refs/heads/ from a ref, as CI.Branch carries branches.
func BranchOf(ref string) string {
	return strings.TrimPrefix(ref, "refs/heads/")
}

// ZeroSHA reports whether s is Git's all-zero object id: the new id of a
// deleted ref.
func ZeroSHA(s string) bool {
	if s == "" {
		return false
	}
	return strings.Trim(s, "0") == ""
}

// RefKind classifies a full ref for push events: a branch push yields
// TypePush with the branch name, a tag push TypeTag with the full tag ref.
// Other refs (notes, pull refs) yield "" for both.
func RefKind(ref string) (typ, branch string) {
	switch {
	case strings.HasPrefix(ref, "refs/heads/"):
		return TypePush, BranchOf(ref)
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

// ParseTime reads a vendor timestamp (RFC 3339 and the spellings of Jira,
// Bitbucket Data Center, GitLab and ServiceNow), in UTC; unknown spellings
// give the zero time (and so the receive time).
func ParseTime(s string) time.Time {
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

// MillisTime reads a vendor timestamp in milliseconds since the epoch, in
// UTC; zero, negative and out-of-range values give the zero time.
func MillisTime(ms int64) time.Time {
	if ms <= 0 || ms > 1<<53 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

var (
	flexStringType = reflect.TypeFor[FlexString]()
	flexIntType    = reflect.TypeFor[FlexInt]()
)

// FlexString is a JSON string that vendors sometimes send as a number
// (ids, states); a number keeps its JSON spelling.
type FlexString string

// UnmarshalJSON accepts a string, a number or null. A string is read as
// Decode reads one.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := gojson.Unmarshal(b, &s, decodeOptions); err != nil {
			return err
		}
		*f = FlexString(s)
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return &json.UnmarshalTypeError{Value: "value", Type: flexStringType}
	}
	*f = FlexString(n.String())
	return nil
}

// FlexInt is a JSON integer that template vendors sometimes send as a
// string or a float.
type FlexInt int64

// UnmarshalJSON accepts an integer, a string holding one, or null.
func (f *FlexInt) UnmarshalJSON(b []byte) error {
	var s FlexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		if fl, ferr := strconv.ParseFloat(string(s), 64); ferr == nil && fl >= -1<<62 && fl <= 1<<62 {
			*f = FlexInt(fl)
			return nil
		}
		return &json.UnmarshalTypeError{Value: "value", Type: flexIntType}
	}
	*f = FlexInt(n)
	return nil
}

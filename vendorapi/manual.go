package vendorapi

import (
	"fmt"
	"strings"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// ManualSteps returns the exact steps to set hookgate's webhook up by hand
// for rec's vendor and scheme: which URL, which header to add with which
// value, and the body template (from events/TEMPLATES.md), as the vendor's
// package writes them (Spec.ManualSteps). It is what Register answers for
// vendors without a hook API (Jenkins notification plugin, Bamboo webhook
// template, ServiceNow business rule and REST message, ManageEngine webhook
// form); for API vendors it gives the equivalent steps in the vendor's UI,
// for operators without an API token. A vendor that registered no steps
// gets "".
//
// The secret itself never appears: the steps say where to get it, "<the
// secret from `caddy hookgate reveal <id>`>".
func ManualSteps(rec integrations.Record, receiverURL string) string {
	write := specs[rec.Vendor].ManualSteps
	if write == nil {
		return ""
	}
	if receiverURL == "" {
		receiverURL = "https://<public_url>" + rec.Vendor.ReceiverPath(idOr(rec))
	}
	scheme := rec.EffectiveScheme()
	m := &Manual{Record: rec, URL: receiverURL, Secret: SecretPlaceholder(rec), Scheme: scheme, byHandOnly: !specs[rec.Vendor].registers(scheme)}
	write(m)
	return m.b.String()
}

// SecretPlaceholder is what steps and messages write where rec's secret
// goes: "<the secret from `caddy hookgate reveal <id>`>".
func SecretPlaceholder(rec integrations.Record) string {
	return "<the secret from `caddy hookgate reveal " + idOr(rec) + "`>"
}

func idOr(rec integrations.Record) string {
	if rec.ID == "" {
		return "<id>"
	}
	return rec.ID
}

// Manual is the text of one vendor's manual steps being written by its
// Spec.ManualSteps: plain lines, verbatim blocks, and the receiver URL in
// the forms senders need. It never holds the secret itself.
type Manual struct {
	// Record is the integration the steps are for.
	Record integrations.Record
	// URL is the receiver URL the vendor must post to.
	URL string
	// Secret is what the steps write where the secret goes: the
	// SecretPlaceholder, never the secret itself.
	Secret string
	// Scheme is the record's effective scheme.
	Scheme integrations.Scheme
	// byHandOnly: the vendor's hook API cannot set the scheme up
	// (Spec.APISchemes), so these steps are the only way.
	byHandOnly bool
	b          strings.Builder
}

// Line writes one line, formatted as by fmt.Sprintf.
func (m *Manual) Line(format string, args ...any) {
	fmt.Fprintf(&m.b, format, args...)
	m.b.WriteByte('\n')
}

// Block writes text verbatim (a body template, a script), followed by one
// empty line.
func (m *Manual) Block(text string) {
	m.b.WriteString(strings.TrimRight(text, "\n"))
	m.b.WriteString("\n\n")
}

// NoAPIHeader opens the steps of a vendor without a hook API, what being
// its display name: why the steps are needed, the integration, its scheme
// and the receiver URL.
func (m *Manual) NoAPIHeader(what string) {
	m.Line("%s has no API hookgate can register its webhook through; set it up by hand (integration %s, scheme %s).", what, m.ID(), m.Scheme)
	m.Line("")
	m.Line("Receiver URL: %s", m.URL)
	m.Line("")
}

// APIHeader opens the by-hand steps of a vendor with a hook API, what
// being its display name: they replace `caddy hookgate register <id>`.
func (m *Manual) APIHeader(what string) {
	if m.byHandOnly {
		m.Line("%s's hook API cannot set up scheme %s, so `caddy hookgate register %s` answers these steps; set it up by hand (integration %s):", what, m.Scheme, m.ID(), m.ID())
		m.Line("")
		return
	}
	m.Line("To set up %s's webhook by hand instead of `caddy hookgate register %s` (integration %s, scheme %s):", what, m.ID(), m.ID(), m.Scheme)
	m.Line("")
}

// WithUserInfo is the receiver URL with user "hookgate" and the secret
// placeholder as password, for senders that only do Basic auth through the
// URL.
func (m *Manual) WithUserInfo() string {
	scheme, rest, ok := strings.Cut(m.URL, "://")
	if !ok {
		return m.URL
	}
	return scheme + "://hookgate:" + m.Secret + "@" + rest
}

// WithToken is the receiver URL with the secret placeholder as its token
// query parameter.
func (m *Manual) WithToken() string {
	sep := "?"
	if strings.Contains(m.URL, "?") {
		sep = "&"
	}
	return m.URL + sep + "token=" + m.Secret
}

// ID is the integration's id, or "<id>" when the record has none.
func (m *Manual) ID() string { return idOr(m.Record) }

// Target is the record's target, or "<target>" when it has none.
func (m *Manual) Target() string {
	if m.Record.Target == "" {
		return "<target>"
	}
	return m.Record.Target
}

// String is the steps written so far.
func (m *Manual) String() string { return m.b.String() }

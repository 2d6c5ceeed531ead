package caddymodule

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/logging"
	"go.uber.org/zap/zapcore"
)

// Field paths of Caddy's access log entries that carry credentials, as
// Caddy's filter encoder names them.
const (
	fieldURI           = "request>uri"
	fieldHeadersPrefix = "request>headers>"
)

// accessLogLeak is one log that a server writes its access log to and
// that would record credentials hookgate receives, with what is needed
// to tell the operator the exact filter lines to add.
type accessLogLeak struct {
	server, log    string
	leaked         []credential
	logCredentials bool // the server's log_credentials is on
	// filter: the log's encoder already is a format filter, so only
	// fields are missing; otherwise the whole format filter is, wrapping
	// wrap (json or console).
	filter bool
	wrap   string
	// uriActions are the actions of the log's request>uri query filter,
	// kept when the token's delete joins them.
	uriActions []queryAction
}

// queryAction is one action of Caddy's query log filter, in its JSON
// form.
type queryAction struct {
	Type      string `json:"type"`
	Parameter string `json:"parameter"`
	Value     string `json:"value,omitempty"`
}

// newAccessLogLeak describes the leak of leaked through enc, the
// encoder of log on server.
func newAccessLogLeak(server, log string, enc zapcore.Encoder, leaked []credential, logCredentials bool) accessLogLeak {
	l := accessLogLeak{server: server, log: log, leaked: leaked, logCredentials: logCredentials, wrap: "json"}
	var fe *logging.FilterEncoder
	switch e := enc.(type) {
	case *logging.FilterEncoder:
		fe = e
	case logging.FilterEncoder:
		fe = &e
	case *logging.ConsoleEncoder, logging.ConsoleEncoder:
		l.wrap = "console"
	}
	if fe != nil {
		l.filter = true
		l.uriActions = queryActions(fe.Fields[fieldURI])
	}
	return l
}

// queryActions are f's actions when f is a query filter; none otherwise
// (a field has one filter: the token's query filter then takes its place).
func queryActions(f logging.LogFieldFilter) []queryAction {
	switch f.(type) {
	case *logging.QueryFilter, logging.QueryFilter:
	default:
		return nil
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil
	}
	var qf struct {
		Actions []queryAction `json:"actions"`
	}
	if json.Unmarshal(b, &qf) != nil {
		return nil
	}
	return qf.Actions
}

// names are the leaked credentials, as the warning names them.
func (l accessLogLeak) names() []string {
	out := make([]string, len(l.leaked))
	for i, c := range l.leaked {
		out[i] = c.String()
	}
	return out
}

// caddyfile is the Caddyfile text that keeps the leaked credentials out
// of the log: the lines for its format filter's `fields` block, or the
// whole `format filter` when the log has none.
func (l accessLogLeak) caddyfile() string {
	var lines []string
	for _, c := range l.leaked {
		if c.header != "" {
			lines = append(lines, fieldHeadersPrefix+c.header+" delete")
			continue
		}
		lines = append(lines, fieldURI+" query {")
		for _, a := range l.uriActions {
			lines = append(lines, "\t"+a.caddyfile())
		}
		lines = append(lines, "\tdelete "+tokenParam, "}")
	}
	if l.filter {
		return strings.Join(lines, "\n")
	}
	out := []string{"format filter {", "\twrap " + l.wrap, "\tfields {"}
	for _, line := range lines {
		out = append(out, "\t\t"+line)
	}
	return strings.Join(append(out, "\t}", "}"), "\n")
}

// caddyfile is a's line in a Caddyfile query filter block.
func (a queryAction) caddyfile() string {
	line := a.Type + " " + caddyfileWord(a.Parameter)
	if a.Type == "replace" {
		line += " " + caddyfileWord(a.Value)
	}
	return line
}

// caddyfileWord quotes s when the Caddyfile would not read it as one
// token.
func caddyfileWord(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"'`{}#\\") {
		return strconv.Quote(s)
	}
	return s
}

// json is the same in the JSON config: the encoder's `fields` to add, or
// the whole encoder when the log has no filter.
func (l accessLogLeak) json() map[string]any {
	fields := map[string]any{}
	for _, c := range l.leaked {
		if c.header != "" {
			fields[fieldHeadersPrefix+c.header] = map[string]any{"filter": "delete"}
			continue
		}
		actions := append(append([]queryAction(nil), l.uriActions...), queryAction{Type: "delete", Parameter: tokenParam})
		fields[fieldURI] = map[string]any{"filter": "query", "actions": actions}
	}
	if l.filter {
		return fields
	}
	return map[string]any{"format": "filter", "wrap": map[string]any{"format": l.wrap}, "fields": fields}
}

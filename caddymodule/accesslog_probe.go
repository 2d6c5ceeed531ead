package caddymodule

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// tokenParam is the query parameter the query-token schemes (Jira and
// ManageEngine `token`) carry their secret in.
const tokenParam = "token"

// credential is one place where a delivery carries a secret that Caddy's
// access log would record as it arrived: a request header, or the `token`
// query parameter in the request URI. Body MACs are no secret and are no
// credential here.
type credential struct {
	header string // canonical header name; empty for the query parameter
}

func (c credential) String() string {
	if c.header == "" {
		return "query parameter " + tokenParam
	}
	return "header " + c.header
}

// receivedCredentials are the credentials deliveries to this config can
// carry, from the verifiers' registry: those of every registered vendor's
// every scheme when Vault is configured (any integration may be added
// there at any time), else those of the static integrations' schemes.
// The query parameter first, then the headers sorted.
func receivedCredentials(static []integrations.Record, vault bool) []credential {
	set := map[credential]bool{}
	add := func(v integrations.Vendor, s integrations.Scheme) {
		r, ok := verifiers.RuleOf(v, s)
		switch {
		case !ok:
		case r.Kind == verifiers.KindQueryToken:
			set[credential{}] = true
		case r.Header != "" && !r.Kind.BodyMAC():
			set[credential{header: r.Header}] = true
		}
	}
	if vault {
		for _, v := range integrations.Vendors() {
			for _, s := range v.Schemes() {
				add(v, s)
			}
		}
	}
	for i := range static {
		add(static[i].Vendor, static[i].EffectiveScheme())
	}
	out := make([]credential, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b credential) int {
		if (a.header == "") != (b.header == "") {
			if a.header == "" {
				return -1
			}
			return 1
		}
		return strings.Compare(a.header, b.header)
	})
	return out
}

// leakedBy encodes, through enc, the access log entry Caddy would write
// for a request that carries each credential (a random mark of its own in
// each: a Bearer token for Authorization, the value itself elsewhere), and
// returns the credentials whose mark comes out. The request object is
// the one Caddy logs (caddyhttp.LoggableHTTPRequest, redacting
// Authorization unless logCredentials), added as Caddy adds it, so what
// the encoder's filters delete, hash or replace is judged by the encoder
// itself. Nothing is written anywhere.
func leakedBy(enc zapcore.Encoder, creds []credential, logCredentials bool) ([]credential, error) {
	marks := make([]string, len(creds))
	r := &http.Request{Method: http.MethodPost, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Host: "hookgate.invalid", RemoteAddr: "192.0.2.1:40000", Header: http.Header{}}
	uri := "/webhooks/hookgate-access-log-check"
	for i, c := range creds {
		marks[i] = probeMark()
		switch c.header {
		case "":
			uri += "?" + tokenParam + "=" + marks[i]
		case "Authorization":
			r.Header.Set(c.header, "Bearer "+marks[i])
		default:
			r.Header.Set(c.header, marks[i])
		}
	}
	r.RequestURI = uri
	e := enc.Clone()
	zap.Object("request", caddyhttp.LoggableHTTPRequest{Request: r, ShouldLogCredentials: logCredentials}).AddTo(e)
	buf, err := e.EncodeEntry(zapcore.Entry{Level: zapcore.InfoLevel, Time: time.Now(),
		LoggerName: accessLoggerPrefix, Message: "handled request"}, nil)
	if err != nil {
		return nil, fmt.Errorf("encoding a sample access log entry: %w", err)
	}
	out := buf.String()
	buf.Free()
	var leaked []credential
	for i, c := range creds {
		if strings.Contains(out, marks[i]) {
			leaked = append(leaked, c)
		}
	}
	return leaked, nil
}

// probeMark is a random token-shaped value: 40 hex digits.
func probeMark() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

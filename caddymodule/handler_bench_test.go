// Handler tests: the 8 KiB GitHub push benchmark and its payload.

package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/verifiers"
)

// githubPush8KiB is the GitHub push payload with its commit repeated until
// it is 8 KiB, padded to exactly 8 KiB.
func githubPush8KiB(t testing.TB) []byte {
	t.Helper()
	const size = 8 << 10
	var m map[string]any
	if err := json.Unmarshal([]byte(caseByID(t, "gh-1").body), &m); err != nil {
		t.Fatal(err)
	}
	commits, _ := m["commits"].([]any)
	if len(commits) == 0 {
		t.Fatal("push payload without commits")
	}
	out, _ := json.Marshal(m)
	for {
		more := append(append([]any{}, commits...), commits[0])
		m["commits"] = more
		enc, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(enc) > size {
			break
		}
		commits, out = more, enc
	}
	return padJSON(t, string(out), size)
}

// BenchmarkHandlerGitHub8KiB serves 8 KiB GitHub pushes in gate mode,
// every iteration a delivery of its own, as real load is: its own delivery
// id and its own body (the push's "after" commit id carries the iteration
// number), signed over that body. One body under many ids would be a
// replay after the first (200 X-Hookgate-Duplicate, nothing handed on)
// and measure that short path instead. The signatures are computed before
// the timer starts; inside it, writing the iteration's commit id into the
// body is a 12-byte copy. The next handler answers 200, so each delivery
// is claimed and marked handled as behind a real backend. The run fails
// unless every iteration was handed on to the next handler.
func BenchmarkHandlerGitHub8KiB(b *testing.B) {
	app := newTestApp(b, false)
	app.MaxBody = DefaultMaxBody
	h, _ := newTestHandler(app)
	h.logger = zap.NewNop()
	vc := caseByID(b, "gh-1")
	payload := githubPush8KiB(b)
	unique := uniqueAfter(b, payload)
	r := signedRequest(b, vc, vc.secret, vc.path(), payload)
	repl := caddy.NewReplacer()
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))
	deliveries := make([][]string, b.N)
	signatures := make([][]string, b.N)
	for i := range deliveries {
		deliveries[i] = []string{"bench-" + strconv.Itoa(i)}
		unique(i)
		hdr, _, err := verifiers.Sign(vc.vendor, vc.effectiveScheme(), []byte(vc.secret), payload, testNow, "msg_hg1")
		if err != nil {
			b.Fatal(err)
		}
		signatures[i] = hdr["X-Hub-Signature-256"]
	}
	body := &benchBody{}
	handedOn := 0
	// The next handler answers 200, as a backend behind reverse_proxy
	// does: a 2xx marks the delivery handled (anything else, or nothing
	// written, releases the claim, and a release is not what real load
	// costs).
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
		handedOn++
		w.WriteHeader(http.StatusOK)
		return nil
	})
	w := discardWriter{h: http.Header{}}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		unique(i)
		body.Reset(payload)
		r.Body, r.ContentLength = body, int64(len(payload))
		r.Header["X-Github-Delivery"] = deliveries[i]
		r.Header["X-Hub-Signature-256"] = signatures[i]
		if err := h.ServeHTTP(w, r, next); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if handedOn != b.N || w.h.Get("X-Hookgate-Duplicate") != "" {
		b.Fatalf("%d of %d deliveries handed on (X-Hookgate-Duplicate %q): the rest were not served as new deliveries",
			handedOn, b.N, w.h.Get("X-Hookgate-Duplicate"))
	}
	if r.Header.Get("X-Hookgate-Verified") != "true" || r.Header.Get("X-Hookgate-Delivery") != deliveries[b.N-1][0] {
		b.Fatalf("last delivery not verified: %v", r.Header)
	}
}

// uniqueAfter returns a function that writes i, as the last 12 hex digits
// of the push's "after" commit id, into payload in place, so each i is a
// body of its own of the same length.
func uniqueAfter(t testing.TB, payload []byte) func(i int) {
	t.Helper()
	const key = `"after":"`
	at := bytes.Index(payload, []byte(key))
	if at < 0 || len(payload) < at+len(key)+40 {
		t.Fatal("push payload without a 40-digit after")
	}
	digits := payload[at+len(key)+28 : at+len(key)+40]
	return func(i int) {
		const hexd = "0123456789abcdef"
		for j := len(digits) - 1; j >= 0; j-- {
			digits[j] = hexd[i&0xf]
			i >>= 4
		}
	}
}

func TestBenchmarkPayload(t *testing.T) {
	p := githubPush8KiB(t)
	if len(p) != 8<<10 {
		t.Fatalf("payload is %d bytes", len(p))
	}
	app := newTestApp(t, false)
	app.MaxBody = DefaultMaxBody
	h, _ := newTestHandler(app)
	vc := caseByID(t, "gh-1")
	res := serve(t, h, signedRequest(t, vc, vc.secret, vc.path(), p))
	wantPassed(t, res, vc, "true", p)
}

type benchBody struct{ bytes.Reader }

func (*benchBody) Close() error { return nil }

type discardWriter struct{ h http.Header }

func (w discardWriter) Header() http.Header       { return w.h }
func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) WriteHeader(int)             {}

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

func BenchmarkHandlerGitHub8KiB(b *testing.B) {
	app := newTestApp(b, false)
	app.MaxBody = DefaultMaxBody
	h, _ := newTestHandler(app)
	h.logger = zap.NewNop()
	vc := caseByID(b, "gh-1")
	payload := githubPush8KiB(b)
	r := signedRequest(b, vc, vc.secret, vc.path(), payload)
	repl := caddy.NewReplacer()
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))
	// A new delivery id each time: the same delivery twice is a duplicate.
	deliveries := make([][]string, b.N)
	for i := range deliveries {
		deliveries[i] = []string{"bench-" + strconv.Itoa(i)}
	}
	body := &benchBody{}
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })
	w := discardWriter{h: http.Header{}}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body.Reset(payload)
		r.Body, r.ContentLength = body, int64(len(payload))
		r.Header["X-Github-Delivery"] = deliveries[i]
		if err := h.ServeHTTP(w, r, next); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if r.Header.Get("X-Hookgate-Verified") != "true" || r.Header.Get("X-Hookgate-Delivery") != deliveries[b.N-1][0] {
		b.Fatalf("last delivery not verified: %v", r.Header)
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

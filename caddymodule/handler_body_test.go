// Handler tests: request bodies. max_body, read errors, and bodies that
// verify but are not the JSON their event needs.

package caddymodule

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
)

func TestHandlerTooLarge(t *testing.T) {
	app := newTestApp(t, false)
	vc := caseByID(t, "gh-1")
	big := padJSON(t, vc.body, 2*testMaxBody)
	exact := padJSON(t, vc.body, testMaxBody)

	t.Run("content-length over max_body", func(t *testing.T) {
		h, _ := newTestHandler(app)
		res := serve(t, h, signedRequest(t, vc, vc.secret, vc.path(), big))
		want413(t, res)
	})
	t.Run("content-length over max_body, unsigned", func(t *testing.T) {
		h, _ := newTestHandler(app)
		res := serve(t, h, signedRequest(t, vc, "", vc.path(), big))
		want413(t, res)
	})
	t.Run("chunked over max_body", func(t *testing.T) {
		h, _ := newTestHandler(app)
		r := signedRequest(t, vc, vc.secret, vc.path(), big)
		r.ContentLength = -1
		r.TransferEncoding = []string{"chunked"}
		r.Body = io.NopCloser(iotest.OneByteReader(bytes.NewReader(big)))
		res := serve(t, h, r)
		want413(t, res)
	})
	t.Run("content-length understated", func(t *testing.T) {
		h, _ := newTestHandler(app)
		r := signedRequest(t, vc, vc.secret, vc.path(), big)
		r.ContentLength = 10
		res := serve(t, h, r)
		want413(t, res)
	})
	t.Run("MaxBytesReader below max_body", func(t *testing.T) {
		h, _ := newTestHandler(app)
		r := signedRequest(t, vc, vc.secret, vc.path(), exact)
		r.ContentLength = -1
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 100)
		res := serve(t, h, r)
		want413(t, res)
	})
	t.Run("exactly max_body", func(t *testing.T) {
		h, _ := newTestHandler(newTestApp(t, false))
		res := serve(t, h, signedRequest(t, vc, vc.secret, vc.path(), exact))
		wantPassed(t, res, vc, "true", exact)
	})
	t.Run("exactly max_body, chunked", func(t *testing.T) {
		h, _ := newTestHandler(newTestApp(t, false))
		r := signedRequest(t, vc, vc.secret, vc.path(), exact)
		r.ContentLength = -1
		r.TransferEncoding = []string{"chunked"}
		res := serve(t, h, r)
		wantPassed(t, res, vc, "true", exact)
	})
}

func want413(t *testing.T, res result) {
	t.Helper()
	if res.rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413 (body %s)", res.rec.Code, res.rec.Body)
	}
	if b := res.rec.Body.String(); b != `{"error":"payload too large"}` {
		t.Errorf("body %q", b)
	}
	wantNotPassed(t, res)
}

func TestHandlerBodyReadError(t *testing.T) {
	app := newTestApp(t, false)
	vc := caseByID(t, "gh-1")
	h, _ := newTestHandler(app)
	r := validRequest(t, vc)
	r.ContentLength = -1
	r.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"ref"`), errReader{}))
	res := serve(t, h, r)
	if res.rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", res.rec.Code)
	}
	wantNotPassed(t, res)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// A body that verifies but is not the JSON its event needs is refused and
// never reaches the next handler.
func TestHandlerMalformedBodyAfterValidSignature(t *testing.T) {
	app := newTestApp(t, false)
	vc := caseByID(t, "gh-1")
	for _, body := range []string{`not json`, `{"ref":`, `[]`, strings.Repeat("[", 1000) + strings.Repeat("]", 1000)} {
		h, _ := newTestHandler(app)
		res := serve(t, h, signedRequest(t, vc, vc.secret, vc.path(), []byte(body)))
		if res.rec.Code != http.StatusBadRequest || res.next.called {
			t.Errorf("body %.20q: status %d, passed %v; want 400, not passed", body, res.rec.Code, res.next.called)
		}
	}
}

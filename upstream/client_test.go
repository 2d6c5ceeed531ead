package upstream

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/state"
)

const testToken = "Bearer s3cr3t-finding-token-0123456789"

func newTestClient(t *testing.T, url string, cfg ClientConfig) *Client {
	t.Helper()
	cfg.URL = url
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func TestClientDeliverSendsEvent(t *testing.T) {
	var got *http.Request
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		gotBody, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()

	c := newTestClient(t, srv.URL+"/v1/events", ClientConfig{Headers: map[string]string{
		"Authorization": testToken,
		"x-tenant":      "acme",
	}})
	body := []byte(`{"id":"ev-1","type":"ci.push","ci":{"branch":"main"}}`)
	if err := c.Deliver(context.Background(), state.OutboxEvent{ID: "ev-1", Body: body}); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	checks := map[string]string{
		"Content-Type":    "application/json",
		"Idempotency-Key": "ev-1",
		"Authorization":   testToken,
		"X-Tenant":        "acme",
		"User-Agent":      "hookgate",
	}
	for k, want := range checks {
		if v := got.Header.Get(k); v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	if got.Method != http.MethodPost || got.URL.Path != "/v1/events" {
		t.Errorf("request = %s %s", got.Method, got.URL.Path)
	}
	if string(gotBody) != string(body) {
		t.Errorf("body = %q, want %q", gotBody, body)
	}
}

func TestClientStatusClassification(t *testing.T) {
	for _, tc := range []struct {
		status    int
		ok        bool
		retryable bool
	}{
		{200, true, false},
		{201, true, false},
		{204, true, false},
		{302, false, false},
		{308, false, false},
		{400, false, false},
		{401, false, false},
		{403, false, false},
		{404, false, false},
		{409, false, false},
		{413, false, false},
		{422, false, false},
		{408, false, true},
		{429, false, true},
		{500, false, true},
		{502, false, true},
		{503, false, true},
		{504, false, true},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.status >= 300 && tc.status < 400 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			err := newTestClient(t, srv.URL, ClientConfig{}).Deliver(context.Background(), state.OutboxEvent{ID: "e", Body: []byte("{}")})
			if tc.ok {
				if err != nil {
					t.Fatalf("Deliver = %v, want nil", err)
				}
				return
			}
			var de *DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("Deliver = %v, want *DeliveryError", err)
			}
			if de.Status != tc.status || de.Retryable != tc.retryable {
				t.Errorf("got status %d retryable %v, want %d %v", de.Status, de.Retryable, tc.status, tc.retryable)
			}
			if !strings.Contains(de.Error(), strconv.Itoa(tc.status)) {
				t.Errorf("error %q does not name the status", de.Error())
			}
		})
	}
}

func TestClientRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		status int
		header string
		want   time.Duration
	}{
		{"429 seconds", 429, "7", 7 * time.Second},
		{"503 seconds", 503, " 120 ", 2 * time.Minute},
		{"503 http date", 503, now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"429 past date", 429, now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"429 capped", 429, "999999999", MaxRetryAfter},
		{"429 negative", 429, "-5", 0},
		{"429 garbage", 429, "soon", 0},
		{"429 none", 429, "", 0},
		{"500 not honoured", 500, "7", 0},
		{"502 not honoured", 502, "7", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.header != "" {
					w.Header().Set("Retry-After", tc.header)
				}
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, ClientConfig{})
			c.now = func() time.Time { return now }
			var de *DeliveryError
			if err := c.Deliver(context.Background(), state.OutboxEvent{ID: "e"}); !errors.As(err, &de) {
				t.Fatalf("Deliver = %v, want *DeliveryError", err)
			}
			if !de.Retryable || de.RetryAfter != tc.want {
				t.Errorf("retryable %v RetryAfter %s, want true %s", de.Retryable, de.RetryAfter, tc.want)
			}
		})
	}
}

func TestClientErrorRedactsAndTruncates(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		// A service that echoes its request, then rambles on.
		io.WriteString(w, "bad request\r\nauthorization: "+r.Header.Get("Authorization")+"\n")
		io.WriteString(w, "token alone: "+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")+"\n")
		io.WriteString(w, strings.Repeat("x", 100<<10))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, ClientConfig{Headers: map[string]string{"Authorization": testToken}})
	err := c.Deliver(context.Background(), state.OutboxEvent{ID: "e"})
	var de *DeliveryError
	if !errors.As(err, &de) || de.Retryable {
		t.Fatalf("Deliver = %#v, want permanent *DeliveryError", err)
	}
	msg := de.Error()
	if strings.Contains(msg, "s3cr3t") {
		t.Errorf("error leaks the token: %q", msg)
	}
	if !strings.Contains(msg, "400") || !strings.Contains(msg, "[redacted]") {
		t.Errorf("error = %q, want the status and a redaction mark", msg)
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error spans lines: %q", msg)
	}
	if len(msg) > errorBodyLimit+100 {
		t.Errorf("error is %d bytes long, want the body truncated", len(msg))
	}
}

func TestClientNetworkErrorIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/v1/events?token=query-secret"
	srv.Close()
	err := newTestClient(t, url, ClientConfig{}).Deliver(context.Background(), state.OutboxEvent{ID: "e"})
	var de *DeliveryError
	if !errors.As(err, &de) || !de.Retryable || de.Status != 0 {
		t.Fatalf("Deliver = %#v, want retryable *DeliveryError without status", err)
	}
	if !strings.Contains(de.Error(), "unreachable") || strings.Contains(de.Error(), "query-secret") {
		t.Errorf("error = %q", de.Error())
	}
}

func TestClientTimeoutIsRetryable(t *testing.T) {
	quit := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-quit:
		}
	}))
	defer srv.Close()
	defer close(quit)
	err := newTestClient(t, srv.URL, ClientConfig{Timeout: 20 * time.Millisecond}).
		Deliver(context.Background(), state.OutboxEvent{ID: "e"})
	var de *DeliveryError
	if !errors.As(err, &de) || !de.Retryable || !strings.Contains(de.Error(), "no answer within 20ms") {
		t.Fatalf("Deliver = %v, want a retryable timeout", err)
	}
}

func TestClientCanceled(t *testing.T) {
	quit := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-quit:
		}
	}))
	defer srv.Close()
	defer close(quit)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := newTestClient(t, srv.URL, ClientConfig{}).Deliver(ctx, state.OutboxEvent{ID: "e"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Deliver = %v, want context.Canceled", err)
	}
}

func TestClientEventWithoutIDIsPermanent(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1/", ClientConfig{})
	var de *DeliveryError
	if err := c.Deliver(context.Background(), state.OutboxEvent{Body: []byte("{}")}); !errors.As(err, &de) || de.Retryable {
		t.Fatalf("Deliver = %v, want a permanent error", err)
	}
}

func TestNewClientRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ClientConfig
	}{
		{"no url", ClientConfig{}},
		{"relative url", ClientConfig{URL: "/v1/events"}},
		{"ftp url", ClientConfig{URL: "ftp://example.com/"}},
		{"negative timeout", ClientConfig{URL: "http://x/", Timeout: -time.Second}},
		{"bad header name", ClientConfig{URL: "http://x/", Headers: map[string]string{"X Bad": "v"}}},
		{"bad header value", ClientConfig{URL: "http://x/", Headers: map[string]string{"Authorization": "Bearer tok\r\nX-Injected: 1"}}},
		{"content type", ClientConfig{URL: "http://x/", Headers: map[string]string{"content-type": "text/plain"}}},
		{"idempotency key", ClientConfig{URL: "http://x/", Headers: map[string]string{"Idempotency-Key": "fixed"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewClient(tc.cfg)
			if err == nil {
				t.Fatal("NewClient accepted it")
			}
			if strings.Contains(err.Error(), "tok") {
				t.Errorf("error quotes a header value: %q", err)
			}
		})
	}
	c, err := NewClient(ClientConfig{URL: "https://findings.example.com/v1/events"})
	if err != nil || c.Timeout() != DefaultTimeout {
		t.Fatalf("defaults: %v, timeout %v", err, c.Timeout())
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"0":    0,
		"1":    time.Second,
		"7":    7 * time.Second,
		"3600": time.Hour,
		"3601": MaxRetryAfter,
		now.Add(30 * time.Second).Format(http.TimeFormat):   30 * time.Second,
		now.Add(48 * time.Hour).Format(http.TimeFormat):     MaxRetryAfter,
		now.Add(30 * time.Second).UTC().Format(time.RFC850): 30 * time.Second,
		"1.5":   0,
		"":      0,
		"later": 0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

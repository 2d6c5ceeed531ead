package caddymodule

import (
	"net/http"
	"strconv"
)

// Response bodies. Every 401 is the same, whatever the reason: the reason
// goes to the log and placeholder, never to the caller.
var (
	bodyUnauthorized     = []byte(`{"error":"unauthorized"}`)
	bodyMethodNotAllowed = []byte(`{"error":"method not allowed"}`)
	bodyTooLarge         = []byte(`{"error":"payload too large"}`)
	bodyUnavailable      = []byte(`{"error":"temporarily unavailable"}`)
	bodyBadRequest       = []byte(`{"error":"bad request"}`)
	bodyRequestTimeout   = []byte(`{"error":"request timeout"}`)
)

// retryAfterSeconds is what a 503 asks the vendor to wait.
const retryAfterSeconds = 30

// writeJSON answers the request itself rather than returning a
// caddyhttp.Error: Caddy's error log would record the request as it
// arrived, credentials included, and the uniform 401 body must not depend on
// the site's error routes.
func writeJSON(w http.ResponseWriter, status int, body []byte) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	if status == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	if status == http.StatusMethodNotAllowed {
		h.Set("Allow", http.MethodPost)
	}
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// Package verifiers decides whether a webhook delivery was sent by the holder
// of an integration's secret, in the vendor's native scheme: HMAC over the raw
// body bytes, a Standard Webhooks signature, or a constant-time token compare.
//
// It takes raw bytes and headers and returns a Verdict. It does no I/O, never
// parses the body, and never puts a secret or a received credential into a
// Verdict's reason.
package verifiers

// Package limiter bounds what callers can make one hookgate instance
// spend. It counts verification failures per scope (a known integration,
// or all unknown ids together) and client address in fixed windows, in
// Redis so that every instance agrees, or in process memory for a single
// instance; and its Budget bounds the body bytes an instance holds at once.
// It never decides what to answer: the handler does.
package limiter

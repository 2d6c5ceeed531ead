// Package limiter counts verification failures per scope (a known
// integration, or all unknown ids together) and client address in fixed
// windows, in Redis so that every instance agrees, or in process memory for
// a single instance; it never decides what to answer.
package limiter

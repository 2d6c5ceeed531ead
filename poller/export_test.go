package poller

// Exported for the external tests (package poller_test), which import
// vendors/all and so cannot be package poller.

// RetryAfter is retryAfter.
var RetryAfter = retryAfter

// DefaultRetryAfter is defaultRetryAfter.
const DefaultRetryAfter = defaultRetryAfter

// Package admin is the operator's side of an integration: listing and
// viewing records, changing their settings, and the webhook secret's
// lifecycle (regenerate with an overlap, reveal, register on the vendor,
// set up and wait for the vendor's test delivery). Every action that
// touches a secret or a vendor is handed to the Service's Log with who
// asked, never with a secret value.
//
// It decides and answers with domain errors (ErrNotFound, ErrConflict,
// ErrBadRequest, ErrUnavailable, ErrVendor) that the admin routes map to
// HTTP statuses; it never reads a request or writes an answer, and never
// reads a secret from a cache: what it reveals or registers comes from the
// record's source, and what it read from Vault goes to every instance's
// record cache (Service.Reload), so the verifiers use that secret too.
package admin

package admin

import "errors"

// The errors the Service's methods wrap; the admin routes answer them
// with the status each names. Messages name integrations and Vault paths,
// never a secret.
var (
	// ErrNotFound: no such integration (404).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the action does not fit the record: a static one the
	// config owns, no vault block to write to, a stored record that is
	// invalid, no secret to reveal (409).
	ErrConflict = errors.New("conflict")
	// ErrBadRequest: the operator's input is not usable: unknown or
	// secret settings, a record they would make invalid, a vendor
	// setting registration needs (400).
	ErrBadRequest = errors.New("bad request")
	// ErrUnavailable: the secret store did not answer (503).
	ErrUnavailable = errors.New("secret store unavailable")
	// ErrVendor: the vendor's API failed (502).
	ErrVendor = errors.New("vendor API error")
)

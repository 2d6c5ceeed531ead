package verifiers

// Outcome is the result class of a verification.
type Outcome uint8

// Outcomes of a verification.
const (
	// Invalid: a credential was present but wrong, malformed, of a refused
	// algorithm, or outside its time window.
	Invalid Outcome = iota
	// Valid: the delivery carries a credential made with a current secret.
	Valid
	// Missing: the scheme's credential was not sent at all.
	Missing
)

// String names the outcome as the audit log spells signature validity.
func (o Outcome) String() string {
	switch o {
	case Valid:
		return "valid"
	case Missing:
		return "missing"
	default:
		return "invalid"
	}
}

// Verdict is the answer for one delivery. Reason is a fixed, secret-free
// phrase for logs and the audit entry; it is never sent to the caller.
type Verdict struct {
	Outcome Outcome
	Reason  string
	// Previous is true when the delivery verified against the previous
	// secret during a rotation overlap.
	Previous bool
}

// OK reports whether the delivery verified.
func (v Verdict) OK() bool { return v.Outcome == Valid }

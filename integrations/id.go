package integrations

// MaxIDLen is the longest integration id accepted.
const MaxIDLen = 128

// ValidID reports whether id matches ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$.
// It is checked before any lookup, so a malformed id never reaches a store.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// Package integrations defines the integration record: which vendor a
// receiver belongs to, the secrets that verify its deliveries, and the
// settings that shape what a verified delivery turns into. It decides what a
// well-formed record and integration id are; it never reads a store itself.
package integrations

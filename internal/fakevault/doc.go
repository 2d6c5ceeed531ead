// Package fakevault is an httptest server that speaks the subset of
// HashiCorp Vault's HTTP API that package secretstore uses, for hermetic
// unit tests: KV v2 reads, writes and listings under the mount "secret",
// token authentication by the X-Vault-Token header, and AppRole login.
//
// It is not Vault. It has no policy language (tokens carry one of a few
// fixed grants), no token hierarchy, no expiry (leases are reported, never
// enforced), no namespaces, TLS, sealing or other secrets engines. The
// answers it gives have the shapes and status codes Vault 1.21 gives for
// the same requests, so github.com/hashicorp/vault/api parses them the same
// way; requests outside the subset answer 501 with an error naming
// fakevault, so a test relying on more of Vault fails loudly instead of
// passing against behaviour Vault does not have. Tests that need real Vault
// use internal/testvault under integration_test/.
package fakevault

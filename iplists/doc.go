// Package iplists decides which client addresses an integration's
// allow_ips admits: literal IP addresses and CIDRs, and the address lists
// vendors publish (GitHub's meta API `hooks`, Atlassian's egress ranges),
// fetched on a schedule and kept when a refresh fails.
//
// Set is a sorted, merged set of prefixes looked up by binary search: the
// part that runs on every delivery. Allow is one parsed allow_ips field.
// The published lists are registered by name with Register, from the
// vendor packages' init functions (vendors/<v>/iplist.go), each with its
// default URL and the parser of its answer; AtlassianEgress reads the one
// feed Atlassian publishes for all its cloud products. Lists fetches the
// lists something asked for (Lists.Want, Lists.Get), each through the
// client its caller gives (hookgate's refuses redirects off the list's
// origin), bounded in bytes and entries, and swaps a list only for one
// that parsed whole.
//
// It never decides how a refused delivery is answered, never logs a
// client address, and never admits an address because a list could not
// be read: a list not loaded yet is reported as such (Pending), and the
// caller refuses.
package iplists

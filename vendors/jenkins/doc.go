// Package jenkins is everything hookgate knows about Jenkins (the Notification plugin or an HTTP Request step): its
// record spec, verification rules, identification and normalization, API
// registration or manual steps, send-test sample and test payloads. Each
// part registers with the package that uses it, in init; importing this
// package (vendors/all does) is what makes the vendor known.
//
// It decides how this vendor's deliveries look and what they mean; it
// never does I/O of its own outside the vendor API client it is handed.
//
// # Event and body
//
// The notification plugin sends no event header: the event name is the
// body's `event` field (default `build`, TEMPLATES.md), inside what the
// credential covers, and normalization reads the body's build.phase, not
// the name. No header can relabel a body.
//
// # Facts of the body
//
//	phase                          event time                              targets
//	FINALIZED (and ignored others)  build.timestamp + build.duration (ms)  none
//
// That is when the build finished in the FINALIZED phase, and its start
// alone in the earlier phases (no duration yet).
//
// A template body names no repository an integration's target could bind
// (`target` is for GitHub, GitLab, Bitbucket and Azure DevOps). Under the
// `token` and `basic` schemes nothing is signed: the facts are what the
// credential holder says. vendors/FACTS.md has the table for every vendor.
package jenkins

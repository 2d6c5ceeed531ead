// Package jira is everything hookgate knows about Jira (Cloud and Data Center): its
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
// Jira names its event in the body (webhookEvent), so no header can claim
// another event: Identify reads only the delivery id from a header.
//
// # Facts of the body
//
//	webhookEvent                                        event time                                 targets
//	jira:issue_updated, comment_created, comment_updated  timestamp (unix ms), else issue.fields.updated  none
//
// The time is stated whether or not the event then yields one (an edit
// that changes no status and carries no comment). Jira hooks are
// site-wide: a delivery names no repository or project to bind an
// integration's target to. Under the default `token` scheme the body is
// not signed (the token is in the URL); under `hmac` it is. Events
// hookgate does not read state nothing. vendors/FACTS.md has the table
// for every vendor.
package jira

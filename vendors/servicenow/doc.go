// Package servicenow is everything hookgate knows about ServiceNow (business rules with an outbound REST message): its
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
// The business rule sends no event header: the event name is the body's
// `event` field (default `ticket`, TEMPLATES.md), inside what the
// credential covers (and the MAC, under `hmac`), and normalization reads
// the body's state and comments, not the name. No header can relabel a
// body.
//
// # Facts of the body
//
//	event                  event time                                 targets
//	ticket (the template)  sys_updated_on (UTC, yyyy-MM-dd HH:mm:ss)  none
//
// A ticket names no repository or project to bind a target to. A time
// that cannot be read states none. vendors/FACTS.md has the table for
// every vendor.
package servicenow

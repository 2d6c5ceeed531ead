// Package manageengine is everything hookgate knows about ManageEngine ServiceDesk Plus (custom triggers): its
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
// The custom trigger's webhook sends no event header: the event name is
// the body's `event` field (default `ticket`, TEMPLATES.md), inside what
// the credential covers, and normalization reads the body's status and
// note, not the name. No header can relabel a body.
//
// # Facts of the body
//
//	event                  event time                            targets
//	ticket (the template)  request.last_updated_time.value (ms)  none
//
// A ticket names no repository or project to bind a target to. Neither
// scheme signs the body: the facts are what the credential holder says.
// vendors/FACTS.md has the table for every vendor.
package manageengine

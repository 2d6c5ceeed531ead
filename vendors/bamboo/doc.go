// Package bamboo is everything hookgate knows about Bamboo (webhook templates): its
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
// The webhook template sends no event header: the event name is the
// body's `event` field (default `build`, TEMPLATES.md), inside what the
// token covers, and normalization reads no name at all. No header can
// relabel a body.
//
// # Facts of the body
//
//	event                 event time                        targets
//	build (the template)  finishedAt, when it reads as one  none
//
// finishedAt is read in RFC 3339 and the other spellings events.FlexTime
// knows; an unsubstituted ${bamboo...} variable, or none, states no time.
// A template body names no repository an integration's target could bind.
// The `token` scheme signs nothing: the facts are what the token holder
// says. vendors/FACTS.md has the table for every vendor.
package bamboo

// Package bitbucket is everything hookgate knows about Bitbucket (Cloud and Data Center): its
// record spec, verification rules, identification and normalization, API
// registration or manual steps, send-test sample and test payloads. Each
// part registers with the package that uses it, in init; importing this
// package (vendors/all does) is what makes the vendor known.
//
// It decides how this vendor's deliveries look and what they mean; it
// never does I/O of its own outside the vendor API client it is handed.
//
// # Event and body agree
//
// X-Event-Key travels outside the signature: anyone holding one signed
// body can send it under another key. For every key hookgate acts on, the
// body must fit it, else it is malformed (400 `malformed body`). A body
// naming an eventKey (every Data Center body but the ping's) names the
// header's; a Data Center event's body must name one. And each key's own
// fields:
//
//	key                                   own fields
//	repo:push                             push.changes, repository.full_name
//	pullrequest:created, :updated         pullrequest with an id, repository.full_name;
//	                                      no comment, approval or changes_request beside it,
//	                                      and a state other than MERGED, DECLINED, SUPERSEDED
//	repo:refs_changed                     eventKey, repository.slug, changes
//	pr:opened, :from_ref_updated, :modified  eventKey, pullRequest with an id, its toRef.repository.slug
//	diagnostics:ping                      test: true
//
// Cloud sends a comment's, an approval's, a merge's or a decline's body as
// the pull request's with one more object beside it or another state, so
// those are what tell them from a created or updated pull request. Keys
// hookgate does not act on are ignored unread.
//
// # Facts of the signed body
//
//	key                                   event time              targets
//	repo:push (Cloud)                     none                    repository.full_name
//	pullrequest:created, :updated         pullrequest.updated_on  repository.full_name
//	repo:refs_changed (Data Center)       date                    repository.project.key/slug
//	pr:opened, :from_ref_updated, :modified  date                 pullRequest.toRef.repository.project.key/slug
//	diagnostics:ping                      none                    none
//
// A Cloud push states no time: it carries none of its own, only its
// commits' dates (push.changes[].new.target.date), which a push of a new
// branch from an old commit has far back. Data Center's date
// (`2019-03-01T10:37:14+0100`) and Cloud's RFC 3339 are both read
// (events.FlexTime); a time that cannot be read states none. A Data
// Center repository without a project key names no target.
// vendors/FACTS.md has the table for every vendor.
package bitbucket

// Package github is everything hookgate knows about GitHub (github.com and GitHub Enterprise Server): its
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
// X-GitHub-Event travels outside the signature: anyone holding one signed
// body can send it under another event's name. So before an event's
// action or ref is looked at, the body must carry that event's own
// fields, else it is malformed (400 `malformed body`), never accepted,
// ignored or audited as the event it was relabelled as:
//
//   - push: ref, after and repository.full_name
//   - ping: zen and hook_id
//   - pull_request: action, the top-level number, a pull_request object
//     whose number (when it has one) is the same, and
//     repository.full_name; review, review comment and thread bodies carry
//     a pull_request object but no top-level number
//   - workflow_run, check_suite: action, the workflow_run or check_suite
//     object, and repository.full_name
//
// Events hookgate does not act on (star, issues, create...) are ignored
// without reading the body.
//
// # Facts of the signed body
//
// Each event read above states (events.Facts), before hookgate decides to
// act on it or to ignore it (a deleting push, a requested check suite):
//
//	event                     event time                     targets
//	push                      repository.pushed_at           repository.full_name
//	pull_request              pull_request.updated_at        repository.full_name
//	workflow_run              workflow_run.updated_at        repository.full_name
//	check_suite               check_suite.updated_at         repository.full_name
//	ping                      none                           repository.full_name, when a repository hook
//
// pushed_at is unix seconds in push payloads (an RFC 3339 string in other
// events' repository); both are read (events.FlexTime), and a time that
// cannot be read states none rather than making the body malformed. A
// ping states no time: hook.updated_at is when the hook was last
// configured, and GitHub pings an old hook on demand. Events ignored
// unread state nothing. vendors/FACTS.md has the table for every vendor.
package github

// Package gitlab is everything hookgate knows about GitLab (gitlab.com and self-managed): its
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
// X-Gitlab-Event is a header: the default `token` scheme proves who sent
// a delivery, not what it says, and a captured body can be re-sent under
// another header. A GitLab body names its own kind, so the two must
// agree, else the body is malformed (400 `malformed body`):
//
//	header               object_kind     own fields
//	Push Hook            push            ref, after, project.path_with_namespace
//	Tag Push Hook        tag_push        ref, after, project.path_with_namespace
//	Merge Request Hook   merge_request   object_attributes, project.path_with_namespace
//	Pipeline Hook        pipeline        object_attributes, project.path_with_namespace
//
// event_name, when the body has one, must be the same kind too. A System
// Hook (or no header) is read by the body's own object_kind, else its
// event_name. Other hooks (Note, Issue, Job...) are ignored unread.
//
// # Facts of the body
//
//	kind            event time                       targets
//	push, tag_push  none                             project.path_with_namespace, project id
//	merge_request   object_attributes.updated_at     project.path_with_namespace, project id
//	pipeline        object_attributes.finished_at    project.path_with_namespace, project id
//
// The project id is project.id, else the top-level project_id, in
// decimal. Times are read in GitLab's `2006-01-02 15:04:05 UTC` and in
// RFC 3339 (events.FlexTime); one that cannot be read states none. A push
// states no time: a push hook carries none of its own, and its commits'
// timestamps are when they were committed (a push of a new branch from an
// old commit has them far back). Under the `token` scheme nothing is
// signed, so the facts are what the token holder says; under `signing`
// the signed webhook-timestamp already bounds a delivery's age (five
// minutes, verifiers). vendors/FACTS.md has the table for every vendor.
package gitlab

// Package poller pulls ticket changes that webhooks missed, once per
// integration across instances.
//
// Webhooks are the fast path and they get lost (partitions, vendor outages,
// a receiver restart). Every interval the Poller visits each active
// integration of a ticket vendor that registered a Client (Jira,
// ServiceNow and ManageEngine: vendors/<v>/poll.go) and has an api_url,
// asks the vendor's API for tickets updated since the integration's
// cursor (minus an overlap window), and turns what it finds into the
// bodies the webhook templates carry, so that events.Normalize and events.Orchestrate decide
// the events exactly as they do for a webhook: a status change seen by poll
// has the same event id as the same change seen by webhook, and the finding
// service sees it once. Events carry source.via "poll" and go to the
// caller's Commit, the same outbox commit path as webhooks.
//
// What it decides: which integrations to visit and when (interval with
// jitter, per-integration exponential backoff, Retry-After), which instance
// polls an integration (a lease with a fencing token in State), where the
// next query starts (the cursor, moved forward only after a page's events
// were committed), and, for vendors whose APIs only give a ticket's
// current state (ServiceNow, ManageEngine), the last state seen per
// ticket, from which their clients tell a change.
//
// Each vendor's package holds its client (the query, the paging, how a
// ticket becomes a webhook body) and registers it with Register from init;
// Pollable and the vendors visited derive from those registrations. This
// package holds what the clients share: the Pass a client is handed for
// one visit (Pass.GetJSON with RequestTimeout, MaxResponseBytes and
// Retry-After handling; Pass.Seen and Pass.Deliver; Pass.NormalizeOrSkip),
// the Page it delivers, the PageSize and MaxPages limits, and ParseTime
// and FlexText for vendor values.
//
// What it never does: verify or accept webhooks, deliver events upstream,
// deduplicate events (ids do that downstream), or replay history from
// before an integration was first polled. Errors it records or returns
// never contain an api_token.
package poller

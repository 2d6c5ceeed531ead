// Package events turns verified deliveries into what the rest of hookgate
// reasons about: the vendor's event name and delivery id (Identify), stable
// ids (DeliveryKey, EventID, TicketEventID, TicketCommentID), the
// normalized events the finding service receives (Normalize), and what an
// integration's settings add to them (Orchestrate: scans, pipelines,
// runbooks, finding transitions).
//
// What a vendor's deliveries mean lives in its package, vendors/<name>,
// which registers its Rules (Register) from init: how a delivery names
// itself, how its body becomes events, and how a ticket status counts as
// done. This package keeps the mechanics every vendor shares and offers
// them as a small toolkit to the rules: the bounds (MaxDepth, MaxFieldLen,
// MaxCommentLen, MaxRefChanges), the guarded one-pass decoding (CheckJSON,
// Decode, Malformed), the event builders of an Input (CIEvent,
// StatusEvent, CommentEvent, VersionSuffix), and the readers of refs,
// repositories, times and loosely typed fields (BranchOf, RefKind,
// ZeroSHA, RepoFromURL, ParseTime, MillisTime, UnixTime, FlexTime,
// FlexString, FlexInt, QuoteName).
//
// It is pure: bytes and headers in, values out, no I/O, no clock. It only
// ever sees bodies that have already been verified, and still treats them
// as hostile: invalid UTF-8 and JSON nested deeper than MaxDepth are
// refused before unmarshalling, every copied string is bounded, and a body
// that is not what its event needs is ErrMalformed, never a panic. It never
// decides whether a delivery is authentic, never deduplicates, and never
// sends anything. TEMPLATES.md documents the bodies expected from the
// vendors whose payload the admin shapes.
package events

package events

import (
	"errors"
	"net/http"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// The event types the finding service receives.
const (
	TypePush              = "ci.push"
	TypePullRequest       = "ci.pull_request"
	TypeTag               = "ci.tag"
	TypeBuild             = "ci.build"
	TypePing              = "ci.ping"
	TypeScanRequested     = "scan.requested"
	TypePipelineRequested = "pipeline.requested"
	TypeRunbookTrigger    = "runbook.trigger"
	TypeTicketStatus      = "ticket.status_changed"
	TypeTicketComment     = "ticket.comment"
)

// Event is what the finding service receives, in the JSON shape CONTRACT.md
// ("Events sent to the finding service") spells out.
type Event struct {
	// ID is stable: the same vendor delivery (or, for tickets, the same
	// change) always yields the same id. It is the Idempotency-Key upstream.
	ID string `json:"id"`
	// Type is one of the Type* constants.
	Type string `json:"type"`
	// OccurredAt is the vendor's time of the change when it sends one, else
	// the time hookgate received the delivery.
	OccurredAt time.Time `json:"occurred_at"`
	// Source says where the event came from and how it was verified.
	Source Source `json:"source"`
	// CI is set on ci.*, scan.requested, pipeline.requested and
	// runbook.trigger events.
	CI *CI `json:"ci,omitempty"`
	// Ticket is set on ticket.* events.
	Ticket *Ticket `json:"ticket,omitempty"`
	// Scan is set on scan.requested events.
	Scan *Scan `json:"scan,omitempty"`
}

// Source describes the delivery an event came from.
type Source struct {
	// Vendor is the vendor name, e.g. `github`.
	Vendor string `json:"vendor"`
	// Integration is the integration id.
	Integration string `json:"integration"`
	// Event is the vendor's event name, e.g. `push` or `jira:issue_updated`.
	Event string `json:"event"`
	// Delivery is the vendor's delivery id, empty when it sends none.
	Delivery string `json:"delivery"`
	// Via is `webhook` or `poll`.
	Via string `json:"via"`
	// Signature is `valid` or `unsigned`.
	Signature string `json:"signature"`
	// ReceivedAt is when hookgate received the delivery (or polled it).
	ReceivedAt time.Time `json:"received_at"`
}

// CI carries what a CI event says about the code it concerns.
type CI struct {
	// Repository is `owner/repo` (or `project/repo`); for Jenkins and
	// Bamboo the path of the SCM URL without `.git`.
	Repository string `json:"repository"`
	// Branch is the branch without `refs/heads/`. Tag events carry the full
	// tag ref (`refs/tags/v1.2.0`), so a tag never passes for a branch of the
	// same name; events without a ref carry an empty branch.
	Branch string `json:"branch"`
	// Commit is the commit the event is about (Bitbucket Cloud pull
	// requests only give a 12-character short hash).
	Commit string `json:"commit"`
	// PullRequest is the pull or merge request number, zero if none.
	PullRequest int `json:"pull_request,omitempty"`
	// Actor is the login (or display name) of who caused the event.
	Actor string `json:"actor"`
	// URL links to the change, pull request or build, when the vendor gives one.
	URL string `json:"url,omitempty"`
}

// Ticket carries what a ticket event says about the ticket.
type Ticket struct {
	// Key is the ticket's human key: Jira `SEC-42`, ServiceNow `INC0010234`,
	// ManageEngine display id `5731`.
	Key string `json:"key"`
	// Status is the new status (Jira status name, ServiceNow state value,
	// ManageEngine status name); on comments, the current status when known.
	Status string `json:"status"`
	// StatusCategory is Jira's status category key (`new`,
	// `indeterminate`, `done`); for ServiceNow and ManageEngine Orchestrate
	// sets `done` when the status is one of the integration's done states.
	StatusCategory string `json:"status_category"`
	// FindingTransition is `closed` or `retest` on a status change to a done
	// status, set by Orchestrate; empty otherwise.
	FindingTransition string `json:"finding_transition,omitempty"`
	// Comment is set on ticket.comment events.
	Comment *Comment `json:"comment,omitempty"`
}

// Comment is a ticket comment or note.
type Comment struct {
	// Author is the comment author's display name.
	Author string `json:"author"`
	// Body is the comment text, at most 4 KiB.
	Body string `json:"body"`
}

// Scan says which scans a scan.requested event asks for.
type Scan struct {
	// Kinds are `sast` and/or `sca`, as the integration's `scans` lists them.
	Kinds []string `json:"kinds"`
}

// Delivery is one verified delivery as the handler (or the poller) hands it
// over to Normalize.
type Delivery struct {
	// Vendor is the integration's vendor.
	Vendor integrations.Vendor
	// Integration is the integration id.
	Integration string
	// Header is the request's header; GitHub, GitLab and Bitbucket carry
	// the event name there, GitHub also the body's Content-Type.
	Header http.Header
	// Body is the verified raw body.
	Body []byte
	// Identity is what Identify read from the delivery.
	Identity Identity
	// DeliveryKey is what DeliveryKey computed for the delivery: the root
	// of CI event ids.
	DeliveryKey string
	// Signature is `valid` or `unsigned`.
	Signature string
	// Via is `webhook` or `poll`.
	Via string
	// ReceivedAt is when the delivery arrived; OccurredAt falls back to it.
	ReceivedAt time.Time
}

// ErrMalformed marks a body that is not the JSON the vendor's event needs:
// invalid UTF-8, not JSON, nested deeper than MaxDepth, fields of the wrong
// type, or missing the fields that identify what the event is about. The
// handler answers 400 after verification.
var ErrMalformed = errors.New("malformed event body")

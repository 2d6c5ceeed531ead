package poller

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Client is what a ticket vendor registers so the poller can visit its
// integrations: how to ask its API what changed, and, for a vendor whose
// query language reads times in the API user's time zone, how to ask for
// that zone. The vendor's package (vendors/jira, vendors/servicenow,
// vendors/manageengine) holds both; the poller holds the mechanics they
// share (the visit, the lease, the cursor, paging limits, the HTTP call,
// Retry-After, normalization).
type Client struct {
	// Poll fetches what changed since p.Since(), page by page, and hands
	// each page to p.Deliver in order, oldest first. It returns the first
	// error; pages delivered before it stay committed. Required.
	Poll func(ctx context.Context, p *Pass) error
	// Zone, when set, asks the vendor for the time zone its queries are
	// read in. The poller calls it once per integration and API account
	// (id, api_url, api_user) and keeps the answer; Poll reads it with
	// p.Zone. The Pass it gets can make calls (GetJSON, Base, Record) but
	// has no window, Seen or Deliver. Optional.
	Zone func(ctx context.Context, p *Pass) (*time.Location, error)
}

// clients holds the registered Clients. It is filled only from init
// functions (vendors/<v>/poll.go), so it is read without a lock.
var clients = map[integrations.Vendor]Client{}

// Register makes the poller visit integrations of vendor v with c. Each
// ticket vendor's package calls it from init; registering a vendor twice,
// or a Client without Poll, panics.
func Register(v integrations.Vendor, c Client) {
	if v == "" || c.Poll == nil {
		panic("poller: client without a vendor or a Poll func")
	}
	if _, dup := clients[v]; dup {
		panic(fmt.Sprintf("poller: client for %q registered twice", v))
	}
	clients[v] = c
}

// Vendors lists the vendors with a registered Client, sorted by name.
func Vendors() []integrations.Vendor {
	vs := make([]integrations.Vendor, 0, len(clients))
	for v := range clients {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs
}

// Pollable reports whether rec is an integration the poller visits: active,
// of a vendor with a registered Client, with an api_url and an api_token.
func Pollable(rec integrations.Record) bool {
	_, ok := clients[rec.Vendor]
	return ok && rec.Active && rec.APIURL != "" && rec.APIToken != ""
}

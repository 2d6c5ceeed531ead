package poller_test

import (
	"fmt"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/poller"
)

// Every ticket vendor registers a poll client and no CI vendor does;
// Pollable follows the registrations.
func TestRegisteredClientsAreTheTicketVendors(t *testing.T) {
	var tickets []integrations.Vendor
	for _, v := range integrations.Vendors() {
		if !v.IsCI() {
			tickets = append(tickets, v)
		}
	}
	if got := poller.Vendors(); fmt.Sprint(got) != fmt.Sprint(tickets) || len(got) == 0 {
		t.Fatalf("poll clients for %v, want the ticket vendors %v", got, tickets)
	}
	for _, v := range integrations.Vendors() {
		rec := integrations.Record{ID: "x", Vendor: v, Active: true, APIURL: "https://vendor.example", APIToken: "t"}
		if poller.Pollable(rec) != !v.IsCI() {
			t.Errorf("Pollable(%s) = %v", v, poller.Pollable(rec))
		}
	}
}

package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// GitLab's test endpoint (POST .../hooks/{hook_id}/test/push_events)
// answers 201 and no delivery id. It runs the hook inline, as part of the
// request, and logs the execution inline too (WebHookService with force),
// so when it answers, the hook's events list (GET .../hooks/{hook_id}/events,
// GitLab 17.3 and later, newest first) holds the test delivery with the
// headers GitLab sent: Idempotency-Key, X-Gitlab-Webhook-UUID and
// X-Gitlab-Event-UUID, fresh for every execution. sendTest lists the events
// before and after the test; the push_hooks entries that are new are the
// test, and their ids are what setup matches. Where the events list cannot
// be read (an older GitLab, a token without access) or shows no new entry,
// the test delivery is Unidentified: setup calls no delivery its own.

// pushTrigger is the events list's name of a push events delivery.
const pushTrigger = "push_hooks"

// hookEvent is one entry of a hook's events list.
type hookEvent struct {
	ID             int64             `json:"id"`
	Trigger        string            `json:"trigger"`
	RequestHeaders map[string]string `json:"request_headers"`
}

// sendTest triggers the hook's push events test and reads the delivery ids
// of the test from the hook's events list.
func sendTest(ctx context.Context, s *vendorapi.Session, hookID string) (vendorapi.TestDelivery, error) {
	s.TrimBasePath(apiPrefix)
	project := strings.Trim(s.Record().Target, "/")
	before, listErr := listEvents(ctx, s, project, hookID)
	u := s.Endpoint(nil, "api", "v4", "projects", project, "hooks", hookID, "test", "push_events")
	if _, err := s.Do(ctx, "test hook", http.MethodPost, u, nil, nil); err != nil {
		return vendorapi.TestDelivery{}, err
	}
	after, err := listEvents(ctx, s, project, hookID)
	if err = errors.Join(listErr, err); err != nil {
		return vendorapi.TestDelivery{Unidentified: unlisted(err)}, nil
	}
	seen := make(map[int64]bool, len(before))
	for _, e := range before {
		seen[e.ID] = true
	}
	var ids []string
	for _, e := range after {
		if e.Trigger == pushTrigger && !seen[e.ID] {
			ids = append(ids, deliveryIDs(e.RequestHeaders)...)
		}
	}
	if len(ids) == 0 {
		return vendorapi.TestDelivery{Unidentified: "GitLab's events list of the hook shows no new push test delivery"}, nil
	}
	slices.Sort(ids)
	return vendorapi.TestDelivery{Deliveries: slices.Compact(ids)}, nil
}

// listEvents reads the newest page of the hook's events list.
func listEvents(ctx context.Context, s *vendorapi.Session, project, hookID string) ([]hookEvent, error) {
	u := s.Endpoint(url.Values{"per_page": {"100"}}, "api", "v4", "projects", project, "hooks", hookID, "events")
	var page []hookEvent
	_, err := s.Do(ctx, "list hook events", http.MethodGet, u, nil, &page)
	return page, err
}

// unlisted says why the events list could not name the test delivery.
func unlisted(err error) string {
	var apiErr *vendorapi.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return "GitLab's events list of the hook answered 404 (it needs GitLab 17.3 or later)"
	}
	return fmt.Sprintf("GitLab's events list of the hook could not be read: %v", err)
}

// deliveryIDs are the delivery ids hookgate may have read from a logged
// delivery's headers: each header identify reads, bounded as identify
// bounds it. The ids GitLab sends are fresh per execution, so any one of
// them names this delivery alone.
func deliveryIDs(logged map[string]string) []string {
	h := make(http.Header, len(logged))
	for k, v := range logged {
		h.Set(k, v)
	}
	var ids []string
	for _, name := range []string{"Webhook-Id", "Idempotency-Key", "X-Gitlab-Webhook-Uuid", "X-Gitlab-Event-Uuid"} {
		if v := h.Get(name); v != "" {
			one := http.Header{name: {v}}
			ids = append(ids, events.Identify(Vendor, integrations.SchemeSigning, one, nil).Delivery)
		}
	}
	return ids
}

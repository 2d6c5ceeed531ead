package manageengine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/caddy-hookgate/poller"
)

// init registers the ticket poller's ServiceDesk Plus client.
func init() {
	poller.Register(Vendor, poller.Client{Poll: poll})
}

// ManageEngine ServiceDesk Plus: API v3 request list,
//
//	GET {api_url}/api/v3/requests?input_data={"list_info":{"row_count":100,"start_index":N,
//	    "sort_field":"last_updated_time","sort_order":"asc","search_criteria":[{"field":
//	    "last_updated_time","condition":"greater or equal","value":"<epoch ms>"}],
//	    "fields_required":[...]}}
//
// with headers `authtoken: <api_token>` and `Accept:
// application/vnd.manageengine.sdp.v3+json`, answering {"requests": [...],
// "list_info": {"has_more_rows": bool}}. Pages are keyset pages as for
// ServiceNow: the next starts at the newest last_updated_time of the last,
// skipping (start_index) the rows of that millisecond already read.
//
// A listed request has the shape of the webhook template's `request`, so
// each becomes the template body with previous_status set to the status
// last seen for that ticket (absent the first time): events.Normalize then
// emits a status change only when the status differs, with the webhook's
// id (display_id, status name, last_updated_time). Notes are not in the
// list and are not polled.
func poll(ctx context.Context, p *poller.Pass) error {
	hdr := http.Header{}
	hdr.Set("Accept", "application/vnd.manageengine.sdp.v3+json")
	hdr.Set("User-Agent", poller.UserAgent)
	hdr.Set("authtoken", p.Record().APIToken)
	from := p.Since().UTC().Truncate(time.Millisecond)
	offset := 0
	local := map[string]string{}
	for n := 0; ; n++ {
		if n == poller.MaxPages {
			return fmt.Errorf("manageengine requests: more than %d pages", poller.MaxPages)
		}
		input, err := json.Marshal(map[string]any{"list_info": map[string]any{
			"row_count":   poller.PageSize,
			"start_index": offset + 1,
			"sort_field":  "last_updated_time",
			"sort_order":  "asc",
			"search_criteria": []map[string]any{{
				"field": "last_updated_time", "condition": "greater or equal",
				"value": strconv.FormatInt(from.UnixMilli(), 10),
			}},
			"fields_required": []string{"id", "display_id", "status", "last_updated_time", "technician"},
		}})
		if err != nil {
			return fmt.Errorf("manageengine requests: encoding the query: %w", err)
		}
		var res struct {
			Requests []json.RawMessage `json:"requests"`
			ListInfo *struct {
				HasMoreRows bool `json:"has_more_rows"`
			} `json:"list_info"`
		}
		u := p.Base() + "/api/v3/requests?input_data=" + url.QueryEscape(string(input))
		if err := p.GetJSON(ctx, "manageengine requests", u, hdr, &res); err != nil {
			return err
		}
		if res.Requests == nil {
			return fmt.Errorf("manageengine requests: response without requests")
		}
		rows := make([]row, len(res.Requests))
		keys := make([]string, 0, len(rows))
		for i, raw := range res.Requests {
			rows[i] = parseRow(raw)
			if _, ok := local[rows[i].key]; !ok && rows[i].key != "" {
				keys = append(keys, rows[i].key)
			}
		}
		seen, err := p.Seen(ctx, keys)
		if err != nil {
			return err
		}
		for k, v := range local {
			seen[k] = v
		}
		pg := poller.Page{Remember: map[string]string{}}
		var last time.Time
		ties := 0
		for i, r := range rows {
			if r.updated.Equal(last) {
				ties++
			} else {
				last, ties = r.updated, 1
			}
			if r.updated.After(pg.Through) {
				pg.Through = r.updated
			}
			body := map[string]any{"request": res.Requests[i]}
			prev, known := seen[r.key]
			if known {
				body["previous_status"] = prev
			}
			b, err := json.Marshal(body)
			if err != nil {
				return fmt.Errorf("manageengine requests: encoding a request: %w", err)
			}
			pg.Events = append(pg.Events, p.NormalizeOrSkip(b)...)
			if r.key != "" && (!known || !strings.EqualFold(prev, r.status)) {
				pg.Remember[r.key], local[r.key] = r.status, r.status
			}
		}
		pg.Through = p.Through(pg.Through)
		if err := p.Deliver(ctx, pg); err != nil {
			return err
		}
		more := len(rows) == poller.PageSize
		if res.ListInfo != nil {
			more = res.ListInfo.HasMoreRows && len(rows) > 0
		}
		if !more {
			return nil
		}
		switch {
		case last.IsZero():
			offset += len(rows)
		case last.Equal(from):
			offset += ties
		default:
			from, offset = last, ties
		}
	}
}

// row is what the poller reads of a listed request.
type row struct {
	key, status string
	updated     time.Time
}

// parseRow reads a listed request's key (display_id, else id), status
// name and last update; what it cannot read stays empty.
func parseRow(raw json.RawMessage) row {
	var r struct {
		ID              json.RawMessage `json:"id"`
		DisplayID       json.RawMessage `json:"display_id"`
		Status          json.RawMessage `json:"status"`
		LastUpdatedTime struct {
			Value json.RawMessage `json:"value"`
		} `json:"last_updated_time"`
	}
	if json.Unmarshal(raw, &r) != nil {
		return row{}
	}
	out := row{key: poller.FlexText(r.DisplayID)}
	if out.key == "" {
		out.key = poller.FlexText(r.ID)
	}
	var named struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(r.Status, &named) == nil {
		out.status = named.Name
	} else {
		out.status = poller.FlexText(r.Status)
	}
	if ms, err := strconv.ParseInt(poller.FlexText(r.LastUpdatedTime.Value), 10, 64); err == nil && ms > 0 {
		out.updated = time.UnixMilli(ms).UTC()
	}
	return out
}

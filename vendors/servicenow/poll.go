package servicenow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/caddy-hookgate/poller"
)

// init registers the ticket poller's ServiceNow client.
func init() {
	poller.Register(Vendor, poller.Client{Poll: poll})
}

// ServiceNow: Table API,
//
//	GET {api_url}/api/now/table/<table>?sysparm_query=sys_updated_on>=<yyyy-MM-dd HH:mm:ss>^ORDERBYsys_updated_on^ORDERBYsys_id
//	    &sysparm_limit=100&sysparm_offset=N&sysparm_fields=number,state,sys_updated_on,sys_updated_by,comments
//	    &sysparm_display_value=false&sysparm_exclude_reference_link=true
//
// answering {"result": [...]} with times in UTC. The table is the record's
// `target` when it names one (the table the business rule sits on), else
// `incident`. Pages are keyset pages: the next one starts at the newest
// sys_updated_on of the last, skipping (sysparm_offset) the rows of that
// second already read, so a ticket updated during the walk cannot shift an
// unread one out of reach the way plain offsets would.
//
// The API gives a ticket's current state, not its changes, so each row
// becomes the documented webhook template with previous_state set to the
// state last seen for that ticket (absent the first time): events.Normalize
// then emits a status change only when the state differs, with the id the
// webhook's business rule would have produced (number, state,
// sys_updated_on). `comments`, when the API returns it and it changed since
// last seen, becomes a comment named by its update time, as a template
// without comment_id is. Auth: Basic api_user:api_token, or Bearer
// api_token without api_user.
func poll(ctx context.Context, p *poller.Pass) error {
	rec := p.Record()
	table := tableOf(rec.Target)
	hdr := http.Header{}
	hdr.Set("Accept", "application/json")
	hdr.Set("User-Agent", poller.UserAgent)
	req := http.Request{Header: hdr}
	if rec.APIUser != "" {
		req.SetBasicAuth(rec.APIUser, rec.APIToken)
	} else {
		hdr.Set("Authorization", "Bearer "+rec.APIToken)
	}
	from := p.Since().UTC().Truncate(time.Second)
	offset := 0
	local := map[string]string{}
	for n := 0; ; n++ {
		if n == poller.MaxPages {
			return fmt.Errorf("servicenow table: more than %d pages", poller.MaxPages)
		}
		q := url.Values{}
		q.Set("sysparm_query", "sys_updated_on>="+from.Format(time.DateTime)+"^ORDERBYsys_updated_on^ORDERBYsys_id")
		q.Set("sysparm_limit", strconv.Itoa(poller.PageSize))
		q.Set("sysparm_offset", strconv.Itoa(offset))
		q.Set("sysparm_fields", "number,state,sys_updated_on,sys_updated_by,comments")
		q.Set("sysparm_display_value", "false")
		q.Set("sysparm_exclude_reference_link", "true")
		var res struct {
			Result []struct {
				Number       string          `json:"number"`
				State        json.RawMessage `json:"state"`
				SysUpdatedOn string          `json:"sys_updated_on"`
				SysUpdatedBy string          `json:"sys_updated_by"`
				Comments     string          `json:"comments"`
			} `json:"result"`
		}
		u := p.Base() + "/api/now/table/" + table + "?" + q.Encode()
		if err := p.GetJSON(ctx, "servicenow table", u, hdr, &res); err != nil {
			return err
		}
		if res.Result == nil {
			return fmt.Errorf("servicenow table: response without result")
		}
		keys := make([]string, 0, len(res.Result))
		for _, r := range res.Result {
			if _, ok := local[r.Number]; !ok && r.Number != "" {
				keys = append(keys, r.Number)
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
		for _, r := range res.Result {
			updated := poller.ParseTime(r.SysUpdatedOn)
			if updated.Equal(last) {
				ties++
			} else {
				last, ties = updated, 1
			}
			if updated.After(pg.Through) {
				pg.Through = updated
			}
			state := poller.FlexText(r.State)
			digest := commentDigest(r.Comments)
			fp := state + "\x00" + digest
			prev, known := seen[r.Number]
			prevState, prevDigest, _ := strings.Cut(prev, "\x00")
			body := map[string]any{
				"number": r.Number, "state": state,
				"sys_updated_on": r.SysUpdatedOn, "sys_updated_by": r.SysUpdatedBy,
			}
			if known {
				body["previous_state"] = prevState
			}
			if digest != "" && digest != prevDigest {
				body["comments"] = r.Comments
			}
			b, err := json.Marshal(body)
			if err != nil {
				return fmt.Errorf("servicenow table: encoding a row: %w", err)
			}
			pg.Events = append(pg.Events, p.NormalizeOrSkip(b)...)
			if r.Number != "" && fp != prev {
				pg.Remember[r.Number], local[r.Number] = fp, fp
			}
		}
		pg.Through = p.Through(pg.Through)
		if err := p.Deliver(ctx, pg); err != nil {
			return err
		}
		if len(res.Result) < poller.PageSize {
			return nil
		}
		switch {
		case last.IsZero():
			offset += len(res.Result)
		case last.Equal(from):
			offset += ties
		default:
			from, offset = last, ties
		}
	}
}

var tableName = regexp.MustCompile(`^[a-z0-9_]{1,80}$`)

// tableOf is target when it is a table name, else incident.
func tableOf(target string) string {
	if tableName.MatchString(target) {
		return target
	}
	return "incident"
}

// commentDigest names a comments value without keeping it.
func commentDigest(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

package azuredevops

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// Azure DevOps service hook subscriptions (REST API 7.1), api_url being the
// organization (https://dev.azure.com/{org}) or a collection URL, so there
// is no default: GET/POST {api_url}/_apis/hooks/subscriptions, PUT
// .../subscriptions/{id}, and GET {api_url}/_apis/projects/{name} to turn a
// project name into the id that publisherInputs.projectId takes.
//
// A subscription has exactly one event type, so hookgate keeps one
// subscription per event type (default git.push and
// git.pullrequest.created), each recognised by event type and consumer URL.
// The Web Hooks consumer's httpRequest action carries the credential:
// scheme bearer (default) as the custom header "Authorization:Bearer
// <secret>", scheme basic as basicAuthUsername "hookgate" and
// basicAuthPassword the secret.

// init registers the hook API, the manual steps and the send-test sample.
// Azure DevOps has no test-delivery API hookgate uses.
func init() {
	vendorapi.RegisterVendor(Vendor, vendorapi.Spec{
		Target:      "project",
		Register:    register,
		Authorize:   authorize,
		Refuse:      refuse,
		ManualSteps: manualSteps,
		Sample:      &sample,
	})
}

// authorize sends a personal access token as the Basic password with an
// empty user.
func authorize(r *http.Request, rec integrations.Record) {
	r.SetBasicAuth("", rec.APIToken)
}

// refuse turns Azure DevOps' answer to a rejected token, 203 and a sign-in
// page, into an error.
func refuse(status int, _ http.Header) string {
	if status == http.StatusNonAuthoritativeInfo {
		return "a sign-in page: the api_token was not accepted"
	}
	return ""
}

const azureAPIVersion = "7.1"

type azureSubscription struct {
	ID               string            `json:"id,omitempty"`
	PublisherID      string            `json:"publisherId"`
	EventType        string            `json:"eventType"`
	ResourceVersion  string            `json:"resourceVersion,omitempty"`
	ConsumerID       string            `json:"consumerId"`
	ConsumerActionID string            `json:"consumerActionId"`
	PublisherInputs  map[string]string `json:"publisherInputs"`
	ConsumerInputs   map[string]string `json:"consumerInputs"`
}

type azureSubscriptionList struct {
	Count int                 `json:"count"`
	Value []azureSubscription `json:"value"`
}

// azureGUID matches a project id; anything else is taken as a project name.
var azureGUID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func azureQuery(extra url.Values) url.Values {
	q := url.Values{"api-version": {azureAPIVersion}}
	for k, v := range extra {
		q[k] = v
	}
	return q
}

func register(ctx context.Context, s *vendorapi.Session, hook vendorapi.Hook) (vendorapi.Result, error) {
	projectID, err := projectIDOf(ctx, s)
	if err != nil {
		return vendorapi.Result{}, err
	}
	inputs := map[string]string{
		"url":                    hook.URL,
		"resourceDetailsToSend":  "all",
		"messagesToSend":         "none",
		"detailedMessagesToSend": "none",
	}
	if rec := s.Record(); rec.EffectiveScheme() == integrations.SchemeBasic {
		inputs["basicAuthUsername"] = "hookgate"
		inputs["basicAuthPassword"] = hook.Secret
	} else {
		inputs["httpHeaders"] = "Authorization:Bearer " + hook.Secret
	}
	var list azureSubscriptionList
	q := azureQuery(url.Values{"publisherId": {"tfs"}, "consumerId": {"webHooks"}, "consumerActionId": {"httpRequest"}})
	if _, err := s.Do(ctx, "list subscriptions", http.MethodGet, s.Endpoint(q, "_apis", "hooks", "subscriptions"), nil, &list); err != nil {
		return vendorapi.Result{}, err
	}
	res := vendorapi.Result{Registered: true}
	var ids []string
	for _, eventType := range hook.EventsOr("git.push", "git.pullrequest.created") {
		sub := azureSubscription{
			PublisherID:      "tfs",
			EventType:        eventType,
			ResourceVersion:  "1.0",
			ConsumerID:       "webHooks",
			ConsumerActionID: "httpRequest",
			PublisherInputs:  map[string]string{"projectId": projectID},
			ConsumerInputs:   inputs,
		}
		existing := ""
		for _, have := range list.Value {
			if have.ID != "" && have.ConsumerID == "webHooks" && have.EventType == eventType && vendorapi.SameReceiver(have.ConsumerInputs["url"], hook.URL) {
				existing = have.ID
				break
			}
		}
		var got azureSubscription
		if existing != "" {
			sub.ID = existing
			u := s.Endpoint(azureQuery(nil), "_apis", "hooks", "subscriptions", existing)
			if _, err := s.Do(ctx, "update subscription "+eventType, http.MethodPut, u, sub, &got); err != nil {
				return vendorapi.Result{}, err
			}
			ids = append(ids, existing)
			continue
		}
		u := s.Endpoint(azureQuery(nil), "_apis", "hooks", "subscriptions")
		if _, err := s.Do(ctx, "create subscription "+eventType, http.MethodPost, u, sub, &got); err != nil {
			return vendorapi.Result{}, err
		}
		if got.ID == "" {
			return vendorapi.Result{}, s.BadAnswer("create subscription "+eventType, "answer has no subscription id")
		}
		ids = append(ids, got.ID)
		res.Created = true
		// A repeated event type in hook.Events now finds this one.
		sub.ID = got.ID
		list.Value = append(list.Value, sub)
	}
	res.HookID = strings.Join(ids, ",")
	return res, nil
}

// projectIDOf returns the record's target as a project id, asking the
// projects API when the target is a name.
func projectIDOf(ctx context.Context, s *vendorapi.Session) (string, error) {
	target := strings.Trim(s.Record().Target, "/ ")
	if azureGUID.MatchString(target) {
		return target, nil
	}
	var p struct {
		ID string `json:"id"`
	}
	if _, err := s.Do(ctx, "look up project", http.MethodGet, s.Endpoint(azureQuery(nil), "_apis", "projects", target), nil, &p); err != nil {
		return "", err
	}
	if p.ID == "" {
		return "", s.BadAnswer("look up project", "answer has no project id")
	}
	return p.ID, nil
}

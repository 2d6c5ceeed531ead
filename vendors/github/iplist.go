package github

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"

	"github.com/hookgate/caddy-hookgate/iplists"
)

// MetaURL is GitHub's meta API. GET /meta answers, among GitHub's other
// address ranges, `hooks`: the CIDRs (IPv4 and IPv6) GitHub's webhook
// deliveries come from.
const MetaURL = "https://api.github.com/meta"

// IPList is the name allow_ips gives GitHub's webhook addresses.
const IPList = "github"

func init() {
	iplists.Register(IPList, iplists.Feed{URL: MetaURL, Parse: hooksFromMeta})
}

// hooksFromMeta reads the `hooks` CIDRs of a GET /meta answer. An answer
// without `hooks`, or with an entry that is no CIDR or address, fails
// whole.
func hooksFromMeta(body []byte) ([]netip.Prefix, error) {
	var meta struct {
		Hooks *[]string `json:"hooks"`
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		return nil, fmt.Errorf("not GitHub's meta JSON: %w", err)
	}
	if meta.Hooks == nil {
		return nil, errors.New("GitHub's meta answer has no hooks")
	}
	out := make([]netip.Prefix, 0, len(*meta.Hooks))
	for i, s := range *meta.Hooks {
		p, err := iplists.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("hooks[%d]: %w", i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

package iplists

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// AtlassianURL is where Atlassian publishes the address ranges of its
// cloud products, Jira and Bitbucket Cloud among them.
const AtlassianURL = "https://ip-ranges.atlassian.com/"

// atlassianFeed is the documented shape of AtlassianURL's answer: items,
// each a CIDR with the products it serves and its direction ("ingress":
// addresses clients connect to, "egress": addresses Atlassian's cloud
// connects from, webhooks included). Other fields (network, mask,
// mask_len, region, creationDate, syncToken) are not read.
type atlassianFeed struct {
	Items *[]struct {
		CIDR      string   `json:"cidr"`
		Product   []string `json:"product"`
		Direction []string `json:"direction"`
	} `json:"items"`
}

// AtlassianEgress is the parser of Atlassian's feed that keeps the egress
// ranges of product, or of every product when product is "". An item
// without a direction is not egress. A body that is not the documented
// shape, or an egress item whose cidr does not parse, fails the whole
// list.
func AtlassianEgress(product string) func([]byte) ([]netip.Prefix, error) {
	return func(body []byte) ([]netip.Prefix, error) {
		var feed atlassianFeed
		if err := json.Unmarshal(body, &feed); err != nil {
			return nil, fmt.Errorf("not Atlassian's ip-ranges JSON: %w", err)
		}
		if feed.Items == nil {
			return nil, errors.New("not Atlassian's ip-ranges JSON: no items")
		}
		var out []netip.Prefix
		for i, it := range *feed.Items {
			if !slices.Contains(it.Direction, "egress") || (product != "" && !slices.Contains(it.Product, product)) {
				continue
			}
			p, err := ParsePrefix(it.CIDR)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out = append(out, p)
		}
		return out, nil
	}
}

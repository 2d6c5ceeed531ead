package jira

import "github.com/hookgate/caddy-hookgate/iplists"

// IPList is the name allow_ips gives Atlassian's egress ranges: the
// addresses Atlassian's cloud (Jira Cloud's webhooks and automation
// among them) connects from, every product's.
const IPList = "atlassian"

func init() {
	iplists.Register(IPList, iplists.Feed{URL: iplists.AtlassianURL, Parse: iplists.AtlassianEgress("")})
}

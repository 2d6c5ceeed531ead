package bitbucket

import "github.com/hookgate/caddy-hookgate/iplists"

// IPList is the name allow_ips gives Bitbucket Cloud's webhook addresses:
// the egress ranges Atlassian's feed tags with the product bitbucket.
const IPList = "bitbucket"

func init() {
	iplists.Register(IPList, iplists.Feed{URL: iplists.AtlassianURL, Parse: iplists.AtlassianEgress("bitbucket")})
}

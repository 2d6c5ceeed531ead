// Package all imports every vendor hookgate ships, the way Caddy's
// modules/standard imports its standard modules. Adding a vendor is one
// folder under vendors/ (with its test cases in testdata/case.json, see
// internal/vendorcases) and one import line here.
package all

import (
	_ "github.com/hookgate/caddy-hookgate/vendors/azuredevops"
	_ "github.com/hookgate/caddy-hookgate/vendors/bamboo"
	_ "github.com/hookgate/caddy-hookgate/vendors/bitbucket"
	_ "github.com/hookgate/caddy-hookgate/vendors/github"
	_ "github.com/hookgate/caddy-hookgate/vendors/gitlab"
	_ "github.com/hookgate/caddy-hookgate/vendors/jenkins"
	_ "github.com/hookgate/caddy-hookgate/vendors/jira"
	_ "github.com/hookgate/caddy-hookgate/vendors/manageengine"
	_ "github.com/hookgate/caddy-hookgate/vendors/servicenow"
)

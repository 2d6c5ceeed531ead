// Package vendorapi creates or updates hookgate's webhook on a vendor through
// the vendor's API, asks the vendor for a test delivery where it can, and
// says the exact manual steps where a vendor has no hook API.
//
// It decides what hookgate's hook looks like on each vendor (events, content
// type, where the secret goes under the integration's scheme) and which
// existing hook is hookgate's: the one pointing at the same receiver URL, so
// registering twice updates instead of adding a second hook, and hooks
// pointing elsewhere are never touched.
//
// It never stores anything, never logs, and never puts a webhook secret or an
// API token into an error, a Result or manual steps: vendor error bodies are
// cut short and scrubbed of both before they are quoted. Every call honours
// its context, and every response is read with a bound.
//
// API vendors: GitHub, GitLab, Bitbucket Cloud, Jira and Azure DevOps.
// Jenkins, Bamboo, ServiceNow and ManageEngine have no hook API; Register
// answers their manual steps.
package vendorapi

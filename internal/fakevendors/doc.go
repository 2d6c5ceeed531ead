// Package fakevendors is local HTTP servers that stand in for the ticket
// vendors' APIs the poller calls, for tests: Jira Cloud's REST API v3
// (GET /rest/api/3/myself and the enhanced JQL search GET
// /rest/api/3/search/jql), the ServiceNow Table API (GET
// /api/now/table/<table>) and ManageEngine ServiceDesk Plus API v3 (GET
// /api/v3/requests).
//
// No vendor SaaS can be reached from where hookgate's tests run, so these
// fakes answer in the request and response shapes the vendors document:
// the query parameters the poller sends are checked (an unsupported query
// answers 400 as the vendor would), credentials are checked where the
// vendor expects them (Basic or Bearer for Jira and ServiceNow, the
// authtoken header for ServiceDesk Plus), times are spelled and
// compared as the vendor spells and compares them (Jira in the API user's
// time zone, ServiceNow second-granular UTC, ServiceDesk Plus epoch
// milliseconds), and pages are cut as the vendor cuts them. They are not
// the vendors: only the calls and fields the poller uses exist, and a test
// that needs more fails on a 400 or 404 instead of passing against
// behaviour the vendor does not have.
//
// Each fake logs its list and search calls (Call: when, which api_token,
// which path label, from which time, answered how) and can be made to fail
// them (Answer: per api_token, or scripted in order), so tests can tell
// integrations and instances apart and watch retries. A path segment in
// front of the API path (api_url http://fake/inst-a) is accepted and
// logged as the call's Label, so several instances can share one fake.
//
// The package is plain Go, importable from the tests of poller, the
// vendors/* packages and integration_test.
package fakevendors

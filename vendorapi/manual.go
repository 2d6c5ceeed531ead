package vendorapi

import (
	"fmt"
	"strings"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// ManualSteps returns the exact steps to set hookgate's webhook up by hand
// for rec's vendor and scheme: which URL, which header to add with which
// value, and the body template (from events/TEMPLATES.md). It is what
// Register answers for vendors without a hook API (Jenkins notification
// plugin, Bamboo webhook template, ServiceNow business rule and REST
// message, ManageEngine webhook form); for API vendors it gives the
// equivalent steps in the vendor's UI, for operators without an API token.
//
// The secret itself never appears: the steps say where to get it, "<the
// secret from `caddy hookgate reveal <id>`>".
func ManualSteps(rec integrations.Record, receiverURL string) string {
	if receiverURL == "" {
		receiverURL = "https://<public_url>" + rec.Vendor.ReceiverPath(idOr(rec))
	}
	m := manual{rec: rec, url: receiverURL, secret: secretPlaceholder(rec), scheme: rec.EffectiveScheme()}
	switch rec.Vendor {
	case integrations.Jenkins:
		return m.jenkins()
	case integrations.Bamboo:
		return m.bamboo()
	case integrations.ServiceNow:
		return m.serviceNow()
	case integrations.ManageEngine:
		return m.manageEngine()
	case integrations.GitHub:
		return m.github()
	case integrations.GitLab:
		return m.gitlab()
	case integrations.Bitbucket:
		return m.bitbucket()
	case integrations.Jira:
		return m.jira()
	case integrations.AzureDevOps:
		return m.azureDevOps()
	}
	return ""
}

// secretPlaceholder is what steps write where the secret goes.
func secretPlaceholder(rec integrations.Record) string {
	return "<the secret from `caddy hookgate reveal " + idOr(rec) + "`>"
}

func idOr(rec integrations.Record) string {
	if rec.ID == "" {
		return "<id>"
	}
	return rec.ID
}

type manual struct {
	rec    integrations.Record
	url    string
	secret string
	scheme integrations.Scheme
	b      strings.Builder
}

func (m *manual) line(format string, args ...any) {
	fmt.Fprintf(&m.b, format, args...)
	m.b.WriteByte('\n')
}

func (m *manual) block(text string) {
	m.b.WriteString(strings.TrimRight(text, "\n"))
	m.b.WriteString("\n\n")
}

func (m *manual) header(what string) {
	m.line("%s has no API hookgate can register its webhook through; set it up by hand (integration %s, scheme %s).", what, idOr(m.rec), m.scheme)
	m.line("")
	m.line("Receiver URL: %s", m.url)
	m.line("")
}

// withUserInfo is u with user "hookgate" and the secret placeholder as
// password, for senders that only do Basic auth through the URL.
func (m *manual) withUserInfo() string {
	scheme, rest, ok := strings.Cut(m.url, "://")
	if !ok {
		return m.url
	}
	return scheme + "://hookgate:" + m.secret + "@" + rest
}

// withToken is the receiver URL with the secret placeholder as its token
// query parameter.
func (m *manual) withToken() string {
	sep := "?"
	if strings.Contains(m.url, "?") {
		sep = "&"
	}
	return m.url + sep + "token=" + m.secret
}

func (m *manual) jenkins() string {
	m.header("Jenkins")
	if m.scheme == integrations.SchemeBasic {
		m.line("1. In the job: Job Notifications → Add Endpoint: Format JSON, Protocol HTTP, Event \"Job Finalized\".")
		m.line("2. URL: %s", m.withUserInfo())
		m.line("   (the password URL-encoded; the plugin turns the user info into the header `Authorization: Basic …`, user hookgate, password the secret).")
		m.line("3. Save. The plugin sends its own JSON; there is no body to configure. It looks like:")
		m.line("")
		m.block(jenkinsBody)
		return m.b.String()
	}
	m.line("The notification plugin cannot add headers. Choose one:")
	m.line("")
	m.line("A. A pipeline step posting the notification plugin's JSON with the header `X-Api-Token` (scheme token, this integration's):")
	m.line("   1. Store %s as a Jenkins \"Secret text\" credential, e.g. id hookgate-token.", m.secret)
	m.line("   2. In the Jenkinsfile's post { always { … } } block, with the HTTP Request plugin:")
	m.line("      withCredentials([string(credentialsId: 'hookgate-token', variable: 'HOOKGATE_TOKEN')]) {")
	m.line("        httpRequest url: '%s', httpMode: 'POST', contentType: 'APPLICATION_JSON',", m.url)
	m.line("          customHeaders: [[name: 'X-Api-Token', value: HOOKGATE_TOKEN, maskValue: true]],")
	m.line("          requestBody: <the JSON below, with this build's values>")
	m.line("      }")
	m.line("")
	m.line("B. The notification plugin: first set the integration's scheme to basic (header `Authorization: Basic`), then")
	m.line("   Job Notifications → Add Endpoint: Format JSON, Protocol HTTP, Event \"Job Finalized\",")
	m.line("   URL %s (the password URL-encoded).", m.withUserInfo())
	m.line("")
	m.line("Body (what the notification plugin sends; phase FINALIZED counts, other phases are ignored):")
	m.line("")
	m.block(jenkinsBody)
	return m.b.String()
}

func (m *manual) bamboo() string {
	m.header("Bamboo")
	m.line("1. Bamboo administration → Webhook templates → Create webhook template, method POST.")
	m.line("2. URL: %s", m.url)
	m.line("3. Headers:")
	m.line("   Content-Type: application/json")
	m.line("   X-Bamboo-Token: %s", m.secret)
	m.line("4. Payload:")
	m.line("")
	m.block(bambooBody)
	m.line("5. In each plan: Plan configuration → Notifications → Add notification, event \"Build completed\", recipient type Webhook, this template.")
	return m.b.String()
}

func (m *manual) serviceNow() string {
	m.header("ServiceNow")
	m.line("1. System Web Services → Outbound → REST Message → New: name hookgate, endpoint %s.", m.url)
	m.line("   HTTP method: name post, method POST, header Content-Type: application/json.")
	switch m.scheme {
	case integrations.SchemeBasic:
		m.line("   Authentication: Basic, a Basic auth profile with user hookgate and password %s (sent as `Authorization: Basic …`).", m.secret)
	case integrations.SchemeHMAC:
		m.line("   No Authorization header: the business rule signs the body with the header `X-ServiceNow-Signature`.")
		m.line("   Create the system property hookgate.key holding %s base64-encoded:", m.secret)
		m.line("   GlideCertificateEncryption.generateMac takes its key base64-encoded.")
	default:
		m.line("   HTTP request header: Authorization = Bearer %s", m.secret)
		m.line("   (or `Bearer ${hookgate_token}` with hookgate_token a variable you fill from a protected property).")
	}
	m.line("2. System Definition → Business Rules → New: table incident (or the table holding findings), Advanced,")
	m.line("   When: after, Update; condition current.state.changes() || current.comments.changes(); script:")
	m.line("")
	m.block(serviceNowScript)
	if m.scheme == integrations.SchemeHMAC {
		m.line("   Uncomment the two lines under \"scheme hmac only\" (r.setRequestHeader('X-ServiceNow-Signature', …)).")
	}
	return m.b.String()
}

func (m *manual) manageEngine() string {
	m.header("ManageEngine ServiceDesk Plus")
	m.line("1. Admin → Automation → Custom Triggers (Requests) → New: Execute on edit, criteria on the status (and/or notes).")
	m.line("2. Action: Webhook, method POST, content type application/json.")
	if m.scheme == integrations.SchemeToken {
		m.line("3. URL: %s", m.withToken())
		m.line("   (the token query parameter URL-encoded; no Authorization header).")
	} else {
		m.line("3. URL: %s", m.url)
		m.line("   Custom header: Authorization: Bearer %s", m.secret)
	}
	m.line("4. Body, built with the form's request variables:")
	m.line("")
	m.block(manageEngineBody)
	return m.b.String()
}

func (m *manual) apiHeader(what string) {
	m.line("To set up %s's webhook by hand instead of `caddy hookgate register %s` (integration %s, scheme %s):", what, idOr(m.rec), idOr(m.rec), m.scheme)
	m.line("")
}

func (m *manual) github() string {
	m.apiHeader("GitHub")
	m.line("1. Repository %s → Settings → Webhooks → Add webhook.", targetOr(m.rec))
	m.line("2. Payload URL: %s; Content type: application/json; SSL verification: enabled.", m.url)
	m.line("3. Secret: %s (GitHub then signs `X-Hub-Signature-256`).", m.secret)
	m.line("4. Events: \"Let me select individual events\": Pushes and Pull requests. Active. Add webhook.")
	return m.b.String()
}

func (m *manual) gitlab() string {
	m.apiHeader("GitLab")
	m.line("1. Project %s → Settings → Webhooks → Add new webhook.", targetOr(m.rec))
	m.line("2. URL: %s", m.url)
	if m.scheme == integrations.SchemeSigning {
		m.line("3. Signing token: %s; leave Secret token empty (GitLab then sends `webhook-signature`).", m.secret)
	} else {
		m.line("3. Secret token: %s (GitLab sends it as `X-Gitlab-Token`).", m.secret)
	}
	m.line("4. Triggers: Push events, Tag push events, Merge request events, Pipeline events. SSL verification on. Add webhook.")
	return m.b.String()
}

func (m *manual) bitbucket() string {
	m.apiHeader("Bitbucket")
	m.line("1. Repository %s → Repository settings → Webhooks → Add webhook; Title hookgate.", targetOr(m.rec))
	m.line("2. URL: %s", m.url)
	m.line("3. Secret: %s (Bitbucket then signs `X-Hub-Signature`).", m.secret)
	m.line("4. Triggers: Repository push; Pull request created and updated. Active. Save.")
	return m.b.String()
}

func (m *manual) jira() string {
	m.apiHeader("Jira")
	m.line("1. Jira settings → System → WebHooks → Create a WebHook; Name hookgate.")
	if m.scheme == integrations.SchemeHMAC {
		m.line("2. URL: %s", m.url)
		m.line("3. Secret: %s (Jira then signs `X-Hub-Signature`).", m.secret)
	} else {
		m.line("2. URL: %s", m.withToken())
		m.line("3. Secret: leave empty (the token query parameter, URL-encoded, is the credential).")
	}
	m.line("4. Events: Issue updated; Comment created and updated. Exclude body: off. Create.")
	return m.b.String()
}

func (m *manual) azureDevOps() string {
	m.apiHeader("Azure DevOps")
	m.line("For each of \"Code pushed\" and \"Pull request created\":")
	m.line("1. Project %s → Project settings → Service hooks → Create subscription → Web Hooks.", targetOr(m.rec))
	m.line("2. URL: %s; Resource details to send: All; Messages to send: None.", m.url)
	if m.scheme == integrations.SchemeBasic {
		m.line("3. Basic authentication username: hookgate; password: %s.", m.secret)
	} else {
		m.line("3. HTTP headers: Authorization:Bearer %s", m.secret)
	}
	m.line("4. Test, then Finish.")
	return m.b.String()
}

func targetOr(rec integrations.Record) string {
	if rec.Target == "" {
		return "<target>"
	}
	return rec.Target
}

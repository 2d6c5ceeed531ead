package servicenow

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// manualSteps are how an operator sets the webhook up by hand: the outbound REST message and the business rule posting
// through it.
func manualSteps(m *vendorapi.Manual) {
	m.NoAPIHeader("ServiceNow")
	m.Line("1. System Web Services → Outbound → REST Message → New: name hookgate, endpoint %s.", m.URL)
	m.Line("   HTTP method: name post, method POST, header Content-Type: application/json.")
	switch m.Scheme {
	case integrations.SchemeBasic:
		m.Line("   Authentication: Basic, a Basic auth profile with user hookgate and password %s (sent as `Authorization: Basic …`).", m.Secret)
	case integrations.SchemeHMAC:
		m.Line("   No Authorization header: the business rule signs the body with the header `X-ServiceNow-Signature`.")
		m.Line("   Create the system property %s (type password2) holding the secret BASE64-ENCODED, not as is:", KeyProperty)
		m.Line("   the `paste.value` that `caddy hookgate rotate %s` and `reveal %s` print beside the secret,", m.ID(), m.ID())
		m.Line("   or: printf %%s '%s' | base64 -w0. GlideCertificateEncryption.generateMac decodes its key from base64;", m.Secret)
		m.Line("   the raw secret there becomes another key and every delivery is refused 401 signature mismatch.")
	default:
		m.Line("   HTTP request header: Authorization = Bearer %s", m.Secret)
		m.Line("   (or `Bearer ${hookgate_token}` with hookgate_token a variable you fill from a protected property).")
	}
	m.Line("2. System Definition → Business Rules → New: table incident (or the table holding findings), Advanced,")
	m.Line("   When: after, Update; condition current.state.changes() || current.comments.changes(); script:")
	m.Line("")
	m.Block(serviceNowScript)
	if m.Scheme == integrations.SchemeHMAC {
		m.Line("   Uncomment the two lines under \"scheme hmac only\" (r.setRequestHeader('X-ServiceNow-Signature', …)).")
	}
}

// The body an operator pastes into the vendor, verbatim from
// events/TEMPLATES.md (a test keeps them equal): what events.Normalize
// expects from this vendor.

// serviceNowScript is the business rule that posts through the REST message.
const serviceNowScript = `(function executeRule(current, previous) {
    var body = {
        event: 'incident.updated',
        number: current.getValue('number'),
        sys_id: current.getValue('sys_id'),
        state: current.getValue('state'),
        previous_state: previous.getValue('state'),
        short_description: current.getValue('short_description'),
        comments: current.comments.changes() ? current.comments.getJournalEntry(1) : '',
        sys_updated_on: current.getValue('sys_updated_on'),   // UTC, yyyy-MM-dd HH:mm:ss
        sys_updated_by: current.getValue('sys_updated_by')
    };
    var payload = JSON.stringify(body);
    var r = new sn_ws.RESTMessageV2('hookgate', 'post');
    r.setRequestBody(payload);
    // scheme hmac only:
    // r.setRequestHeader('X-ServiceNow-Signature',
    //     new GlideCertificateEncryption().generateMac(gs.getProperty('hookgate.key'), 'HmacSHA256', payload));
    r.executeAsync();
})(current, previous);
`

package vendorapi

// The bodies operators paste into vendors without a hook API, verbatim from
// events/TEMPLATES.md (a test keeps them equal): what events.Normalize
// expects from each.

// jenkinsBody is the notification plugin's own JSON, as the plugin sends it.
const jenkinsBody = `{
  "name": "payments-api-ci",
  "display_name": "payments-api-ci",
  "url": "job/payments-api-ci/",
  "build": {
    "full_url": "https://jenkins.example.com/job/payments-api-ci/318/",
    "number": 318,
    "queue_id": 9921,
    "timestamp": 1741099001000,
    "duration": 184233,
    "phase": "FINALIZED",
    "status": "SUCCESS",
    "url": "job/payments-api-ci/318/",
    "scm": {
      "url": "https://github.com/acme/payments-api.git",
      "branch": "origin/main",
      "commit": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
      "changes": [],
      "culprits": []
    },
    "log": "",
    "artifacts": {}
  }
}
`

// bambooBody is the Bamboo webhook template's payload.
const bambooBody = `{
  "planKey": "${bamboo.planKey}",
  "planName": "${bamboo.planName}",
  "buildResultKey": "${bamboo.buildResultKey}",
  "buildNumber": "${bamboo.buildNumber}",
  "buildState": "${bamboo.buildState}",
  "repositoryUrl": "${bamboo.planRepository.repositoryUrl}",
  "branchName": "${bamboo.planRepository.branchName}",
  "revision": "${bamboo.planRepository.revision}",
  "buildResultsUrl": "${bamboo.buildResultsUrl}",
  "finishedAt": "${bamboo.date.finished}",
  "triggerReason": "${bamboo.trigger.reason}"
}
`

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

// manageEngineBody is the ManageEngine webhook body.
const manageEngineBody = `{
  "event": "request.updated",
  "request": {
    "id": "<request id>",
    "display_id": "<request display id>",
    "subject": "<subject>",
    "status": {"name": "<status name>"},
    "last_updated_time": {"value": "<last updated time, ms since epoch>"},
    "technician": {"name": "<technician name>"}
  },
  "previous_status": {"name": "<previous status name, optional>"},
  "note": "<latest note text, optional>"
}
`

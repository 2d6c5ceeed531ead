package integration_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/caddymodule"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
)

// loadResult is what one load generator saw: the deliveries each
// instance acknowledged (202), and how many posts failed otherwise.
type loadResult struct {
	mu       sync.Mutex
	accepted map[string][]sentPush // instance label -> deliveries answered 202
	refused  map[int]int           // other status (and 200 X-Hookgate-Duplicate, as 0) -> count
	errors   int                   // connection errors (the killed instance)
	done     chan struct{}         // closed when every sender has stopped
}

// sentPush is one delivery the load generator sent.
type sentPush struct {
	id   string
	body []byte
}

// pushOf is template as a push of its own: every occurrence of its after
// commit id replaced by one made of n, and repository.pushed_at now. One
// body under many delivery ids would be a replay after the first (200
// X-Hookgate-Duplicate, nothing queued), and an old pushed_at over
// max_age a 401: neither is load.
func pushOf(t testing.TB, template []byte, n string) []byte {
	t.Helper()
	var p struct {
		After      string `json:"after"`
		Repository struct {
			PushedAt int64 `json:"pushed_at"`
		} `json:"repository"`
	}
	if err := json.Unmarshal(template, &p); err != nil || len(p.After) != 40 || p.Repository.PushedAt == 0 {
		t.Fatalf("push template without a 40-digit after and a pushed_at: %v", err)
	}
	sum := sha1.Sum([]byte(n))
	b := bytes.ReplaceAll(template, []byte(p.After), []byte(hex.EncodeToString(sum[:])))
	return bytes.Replace(b, []byte(`"pushed_at": `+strconv.FormatInt(p.Repository.PushedAt, 10)),
		[]byte(`"pushed_at": `+strconv.FormatInt(time.Now().Unix(), 10)), 1)
}

// loadPushes posts signed GitHub pushes, each a delivery of its own (its
// own id, and its own body from template, pushed now: see pushOf), from
// workers goroutines (one keep-alive connection each), to the instances
// in turn, until ctx ends.
func loadPushes(ctx context.Context, t *testing.T, workers int, targets map[string]string, template []byte) *loadResult {
	t.Helper()
	res := &loadResult{accepted: map[string][]sentPush{}, refused: map[int]int{}, done: make(chan struct{})}
	labels := make([]string, 0, len(targets))
	for l := range targets {
		labels = append(labels, l)
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
			defer client.CloseIdleConnections()
			for n := 0; ctx.Err() == nil; n++ {
				label := labels[(w+n)%len(labels)]
				d := fmt.Sprintf("load-%d-%d", w, n)
				body := pushOf(t, template, d)
				req := signed(t, targets[label], integrations.GitHub, integrations.SchemeHMAC, secretFor("github-main"), body,
					map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": d})
				resp, err := client.Do(req)
				res.mu.Lock()
				switch {
				case err != nil:
					res.errors++
				case resp.StatusCode == http.StatusAccepted && resp.Header.Get("X-Hookgate-Duplicate") == "":
					res.accepted[label] = append(res.accepted[label], sentPush{d, body})
				case resp.Header.Get("X-Hookgate-Duplicate") != "":
					res.refused[0]++
				default:
					res.refused[resp.StatusCode]++
				}
				res.mu.Unlock()
				if resp != nil {
					resp.Body.Close()
				}
			}
		})
	}
	go func() { wg.Wait(); close(res.done) }()
	return res
}

// TestTwoInstancesUnderLoadOneKilled: two Caddy processes on one Redis
// take signed pushes from 16 concurrent senders (a Go load generator rather
// than wrk, because the test must know exactly which deliveries were
// acknowledged). Mid-run the instance holding the poller lease is killed
// with SIGKILL. Every acknowledged delivery's events reach the finding
// service; an event is delivered twice only if the killed instance had it
// in flight (at most its delivery concurrency plus its unrecorded
// acknowledgements); the survivor takes the poller lease over and polls
// a change made after the kill.
func TestTwoInstancesUnderLoadOneKilled(t *testing.T) {
	redisAddr, prefix := testredis.Shared(t)
	fs := newFindingService(t)
	jira := newFakeJiraCloudSearchAPI(t)
	const jiraID = "jira-load"
	lines := func(label string) string {
		// The integration startForwarder configures (expectedIDs assumes
		// it): each push yields ci.push, scan.requested,
		// pipeline.requested and runbook.trigger.
		return fmt.Sprintf("\t\tdedupe_window 1h\n\t\tpoll_interval 1s\n\t\tintegration github-main {\n\t\t\tvendor github\n\t\t\tsecret %s\n\t\t\tbranches main release/*\n\t\t\tscans sast sca\n\t\t\tpipeline\n\t\t}\n%s\n",
			secretFor("github-main"), jiraPollIntegration(jiraID, jira.URL+"/"+label))
	}
	inst := map[string]*forwarder{}
	targets := map[string]string{}
	for _, label := range []string{"inst-a", "inst-b"} {
		inst[label] = startForwardCaddy(t, redisAddr, prefix, fs.URL, lines(label))
		targets[label] = inst[label].base + integrations.GitHub.ReceiverPath("github-main")
	}
	polling := func(label string) *pollingCaddy {
		return &pollingCaddy{Instance: inst[label].caddy, admin: inst[label].admin}
	}
	var holder string
	var token int64
	eventually(t, 30*time.Second, "a poller lease holder", func() bool {
		r, ok := polling("inst-a").pollerRow(jiraID)
		holder, token = r.LeaseHolder, r.LeaseToken
		return ok && holder != "" && !r.Cursor.IsZero()
	})
	// The holder is the instance whose api_url the searches carry.
	mark := jira.CallCount()
	eventually(t, 30*time.Second, "a search by the holder", func() bool { return jira.CallCount() > mark })
	killed := jira.CallsFrom(mark)[0].Label
	survivor := "inst-a"
	if killed == "inst-a" {
		survivor = "inst-b"
	}

	template := readPayload(t, "github/push.json")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	load := loadPushes(ctx, t, 16, targets, template)
	time.Sleep(4 * time.Second)
	inst[killed].caddy.Kill()
	killedAt := time.Now()
	jira.Transition("SEC-90", "Done", "10002", "done", killedAt.UTC())
	time.Sleep(4 * time.Second)
	stop()
	<-load.done

	load.mu.Lock()
	acceptedA, acceptedB := len(load.accepted[killed]), len(load.accepted[survivor])
	t.Logf("acknowledged: %d by the killed instance, %d by the survivor; refused %v; connection errors %d",
		acceptedA, acceptedB, load.refused, load.errors)
	if acceptedA < 50 || acceptedB < 100 {
		t.Fatalf("too little load to prove anything: %d and %d deliveries acknowledged", acceptedA, acceptedB)
	}
	if len(load.refused) != 0 {
		t.Fatalf("deliveries refused (or answered as duplicates, 0) under load: %v", load.refused)
	}
	var sent []sentPush
	for _, ds := range load.accepted {
		sent = append(sent, ds...)
	}
	want := wantedEvents(t, sent)
	// The killed instance's claimed events are reclaimed after
	// reclaim_after (2 × the 2s timeout + 30s); the poller lease expires
	// within 30s.
	awaitEvents(t, fs, want, 120*time.Second, redisAddr, prefix)
	twice := 0
	for id, n := range fs.snapshot() {
		if n > 1 {
			twice++
			t.Logf("event %s delivered %d times", id, n)
		}
	}
	// In flight at the kill: up to c attempts (the delivery concurrency),
	// plus up to 2×c delivered and queued for their Done, and one Done
	// batch (up to 2×c+1, all that can be queued) on its way to Redis.
	const c = caddymodule.DefaultConcurrency
	if twice > c+2*c+2*c+1 {
		t.Errorf("%d events delivered more than once: more than the killed instance could have had in flight", twice)
	}
	t.Logf("%d events expected, %d delivered twice (in flight at the kill)", len(want), twice)

	var after pollerRow
	eventually(t, 60*time.Second, "the survivor taking the poller lease over", func() bool {
		r, ok := polling(survivor).pollerRow(jiraID)
		after = r
		return ok && r.LeaseHolder != "" && r.LeaseHolder != holder
	})
	if after.LeaseToken != token+1 {
		t.Fatalf("fencing token after the takeover %d, want %d", after.LeaseToken, token+1)
	}
	waitPolledChange(t, fs, 30*time.Second, jiraID, "SEC-90", "Done", "retest")
}

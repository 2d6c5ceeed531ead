// Package payloads finds the webhook payload files tests run over (the
// shared corpus named by HOOKGATE_CORPUS, or the payloads written for
// hookgate in testdata/payloads), the vendor and headers a vendor would
// have sent with each, derived from its folder and file name, and the
// verified delivery the handler would hand to events.Normalize.
package payloads

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// VendorOf is the vendor whose payloads folder holds, derived from the
// registered vendors (so a test binary must import the vendor packages,
// vendors/all for every one): a folder is named after a registered vendor
// (`github`), or after one and a variant of it joined by a hyphen,
// `<vendor>-<variant>` (`bitbucket-server`: Bitbucket Data Center, which
// shares the vendor `bitbucket` with Cloud). The variant only keeps a
// variant's payloads apart; Headers may send other headers for it. The
// longest registered prefix wins. False for a folder that names no
// registered vendor.
func VendorOf(folder string) (integrations.Vendor, bool) {
	if strings.HasSuffix(folder, "-") {
		return "", false // a variant has a name
	}
	for name := folder; name != ""; {
		if v := integrations.Vendor(name); v.Known() {
			return v, true
		}
		i := strings.LastIndexByte(name, '-')
		if i < 0 {
			break
		}
		name = name[:i]
	}
	return "", false
}

// Root is $HOOKGATE_CORPUS (a relative value is resolved against the
// module root, one level above a package directory, first), or
// ../testdata/payloads when it is unset; fromEnv says which.
func Root() (dir string, fromEnv bool, err error) {
	env := os.Getenv("HOOKGATE_CORPUS")
	if env == "" {
		return filepath.Join("..", "testdata", "payloads"), false, nil
	}
	candidates := []string{env}
	if !filepath.IsAbs(env) {
		candidates = []string{filepath.Join("..", env), env}
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && fi.IsDir() {
			return c, true, nil
		}
	}
	return "", true, fmt.Errorf("HOOKGATE_CORPUS=%q: no such directory (tried %v)", env, candidates)
}

// Files lists the payload files under dir as slash paths relative to it:
// every file inside a vendor folder (README and LICENSE files at the top
// are not payloads).
func Files(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if strings.Contains(rel, "/") {
			out = append(out, rel)
		}
		return nil
	})
	return out, err
}

// Headers are the headers a vendor would have sent with the payload file
// rel (folder/name): event headers derived from the name (and, for
// GitLab, the body's object_kind) and a delivery id unique to the file. A
// name's `--variant` suffix only tells payloads apart: it is left out of
// the event name but kept in the delivery id.
func Headers(rel string, body []byte) (integrations.Vendor, http.Header, error) {
	folder, name, _ := strings.Cut(rel, "/")
	v, ok := VendorOf(folder)
	if !ok {
		return "", nil, fmt.Errorf("%s: folder %q names no registered vendor", rel, folder)
	}
	file := strings.TrimSuffix(name, filepath.Ext(name))
	base, _, _ := strings.Cut(file, "--")
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	switch folder {
	case "github":
		h.Set("X-GitHub-Event", githubEventFromName(base))
		h.Set("X-GitHub-Delivery", "gh-"+file)
		if strings.HasSuffix(name, ".txt") {
			h.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	case "gitlab":
		var b struct {
			ObjectKind string `json:"object_kind"`
		}
		_ = json.Unmarshal(body, &b)
		h.Set("X-Gitlab-Event", gitlabHeaderFor(b.ObjectKind))
		h.Set("X-Gitlab-Event-UUID", "gl-"+file)
	case "bitbucket":
		h.Set("X-Event-Key", bitbucketCloudKeyFromName(base))
		h.Set("X-Request-UUID", "bb-"+file)
	case "bitbucket-server":
		key := bitbucketDCKeyFromName(base)
		var b struct {
			EventKey string `json:"eventKey"`
		}
		if json.Unmarshal(body, &b) == nil && b.EventKey != "" && b.EventKey != key {
			return "", nil, fmt.Errorf("%s: name gives X-Event-Key %q, body says %q", rel, key, b.EventKey)
		}
		h.Set("X-Event-Key", key)
		h.Set("X-Request-Id", "bbs-"+file)
	case "jira":
		h.Set("X-Atlassian-Webhook-Identifier", "jira-"+file)
	}
	return v, h, nil
}

// Received is when the deliveries Delivery builds were received.
var Received = time.Date(2025, 3, 4, 18, 0, 0, 0, time.UTC)

// Delivery is the verified delivery the handler would hand to
// events.Normalize for the payload file rel with body: its vendor and
// Headers' headers, the identity events.Identify reads from them with the
// vendor's default scheme, integration `it-<folder>`, signature valid,
// via webhook, received at Received. The body is a copy.
func Delivery(rel string, body []byte) (events.Delivery, error) {
	v, h, err := Headers(rel, body)
	if err != nil {
		return events.Delivery{}, err
	}
	folder, _, _ := strings.Cut(rel, "/")
	integration := "it-" + folder
	id := events.Identify(v, v.DefaultScheme(), h, body)
	return events.Delivery{
		Vendor:      v,
		Integration: integration,
		Header:      h,
		Body:        bytes.Clone(body),
		Identity:    id,
		DeliveryKey: events.DeliveryKey(integration, id.Delivery, body),
		Signature:   "valid",
		Via:         "webhook",
		ReceivedAt:  Received,
	}, nil
}

// Inline is the verified delivery of vendor v with header h (nil for
// none; Content-Type application/json is set when absent) and body, as
// the handler would build it: the identity events.Identify reads with the
// vendor's default scheme, event as its event name when it reads none;
// integration `it-1`, signature valid, via webhook, received at Received.
func Inline(v integrations.Vendor, h http.Header, event string, body []byte) events.Delivery {
	if h == nil {
		h = http.Header{}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	id := events.Identify(v, v.DefaultScheme(), h, body)
	if id.Event == "" {
		id.Event = event
	}
	return events.Delivery{
		Vendor:      v,
		Integration: "it-1",
		Header:      h,
		Body:        body,
		Identity:    id,
		DeliveryKey: events.DeliveryKey("it-1", id.Delivery, body),
		Signature:   "valid",
		Via:         "webhook",
		ReceivedAt:  Received,
	}
}

// Load reads the payload file rel (folder/name) of the module's
// testdata/payloads, found from the working directory up, and returns it
// with the delivery Delivery builds for it: what a test of one vendor's
// package (vendors/<name>, two levels down) needs.
func Load(rel string) ([]byte, events.Delivery, error) {
	dir, err := moduleRoot()
	if err != nil {
		return nil, events.Delivery{}, err
	}
	body, err := os.ReadFile(filepath.Join(dir, "testdata", "payloads", filepath.FromSlash(rel)))
	if err != nil {
		return nil, events.Delivery{}, fmt.Errorf("payloads: %w", err)
	}
	d, err := Delivery(rel, body)
	return body, d, err
}

// moduleRoot is the directory of the go.mod at or above the working
// directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("payloads: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("payloads: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Sample is one payload file of a vendor folder, with the delivery
// Delivery builds for it.
type Sample struct {
	// Rel is the file's slash path under its root, folder/name.
	Rel string
	// Corpus says the file is from $HOOKGATE_CORPUS, not testdata/payloads.
	Corpus bool
	// Body is the file's bytes.
	Body []byte
	// Delivery is what Delivery(Rel, Body) builds.
	Delivery events.Delivery
}

// Name is the sample's file as a test names it: Rel, prefixed with
// `corpus:` for a corpus file.
func (s Sample) Name() string {
	if s.Corpus {
		return "corpus:" + s.Rel
	}
	return s.Rel
}

// Samples reads every payload file of the given folders (`github`,
// `bitbucket-server`) from the module's testdata/payloads, found from the
// working directory up, and, when HOOKGATE_CORPUS is set, from the corpus
// too (a relative value is resolved against the module root): what a
// vendor package's test runs over every real body of its vendor. A
// folder the corpus lacks adds nothing; an unreadable corpus is an error.
func Samples(folders ...string) ([]Sample, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	roots := []struct {
		dir    string
		corpus bool
	}{{filepath.Join(root, "testdata", "payloads"), false}}
	if env := os.Getenv("HOOKGATE_CORPUS"); env != "" {
		if !filepath.IsAbs(env) {
			env = filepath.Join(root, env)
		}
		if fi, err := os.Stat(env); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("payloads: HOOKGATE_CORPUS=%q is no directory", env)
		}
		roots = append(roots, struct {
			dir    string
			corpus bool
		}{env, true})
	}
	var out []Sample
	for _, r := range roots {
		for _, folder := range folders {
			des, err := os.ReadDir(filepath.Join(r.dir, folder))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("payloads: %w", err)
			}
			for _, de := range des {
				if de.IsDir() {
					continue
				}
				rel := folder + "/" + de.Name()
				body, err := os.ReadFile(filepath.Join(r.dir, folder, de.Name()))
				if err != nil {
					return nil, fmt.Errorf("payloads: %w", err)
				}
				d, err := Delivery(rel, body)
				if err != nil {
					return nil, err
				}
				out = append(out, Sample{Rel: rel, Corpus: r.corpus, Body: body, Delivery: d})
			}
		}
	}
	return out, nil
}

// SampleTime is the send time FromSample fills a sample's time
// placeholders with.
var SampleTime = time.Date(2025, 3, 4, 14, 5, 11, 0, time.UTC)

// FromSample is the verified delivery of vendor v's send-test sample as
// `caddy hookgate send-test` would post it, with delivery id 1 and
// SampleTime in place of the placeholders (Inline builds it).
func FromSample(v integrations.Vendor, s vendorapi.Sample) events.Delivery {
	h := http.Header{}
	for k, val := range s.Headers {
		h.Set(k, vendorapi.Fill(val, "1", SampleTime))
	}
	return Inline(v, h, "", []byte(vendorapi.Fill(s.Body, "1", SampleTime)))
}

// Relabel is d as it would arrive with header name set to value (the
// event header sent with a captured body, say): the header is a copy,
// the identity what events.Identify reads from it with the vendor's
// default scheme, the body and everything else d's.
func Relabel(d events.Delivery, name, value string) events.Delivery {
	h := d.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(name, value)
	d.Header = h
	d.Identity = events.Identify(d.Vendor, d.Vendor.DefaultScheme(), h, d.Body)
	return d
}

// githubEventFromName: pull-request.json → pull_request; a few corpus names
// are not event names and are mapped to the event they hold.
func githubEventFromName(base string) string {
	switch base {
	case "pull-request-issue-comment":
		return "issue_comment"
	case "repository-edited":
		return "repository"
	}
	return strings.ReplaceAll(base, "-", "_")
}

// gitlabHeaderFor is the X-Gitlab-Event GitLab sends with an object_kind;
// bodies without one come from system hooks.
func gitlabHeaderFor(kind string) string {
	switch kind {
	case "":
		return "System Hook"
	case "build":
		return "Job Hook"
	case "note":
		return "Note Hook"
	case "tag_push":
		return "Tag Push Hook"
	}
	words := strings.Split(kind, "_")
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ") + " Hook"
}

// bitbucketCloudKeyFromName: repo-push → repo:push, pull-request-created →
// pullrequest:created; Cloud's names for approvals, merges and declines
// differ from the file names.
func bitbucketCloudKeyFromName(base string) string {
	switch base {
	case "pull-request-approved":
		return "pullrequest:approved"
	case "pull-request-approval-removed":
		return "pullrequest:unapproved"
	case "pull-request-merged":
		return "pullrequest:fulfilled"
	case "pull-request-declined":
		return "pullrequest:rejected"
	case "commit-comment-created":
		return "repo:commit_comment_created"
	}
	for _, p := range []struct{ file, key string }{{"pull-request-", "pullrequest:"}, {"repo-", "repo:"}, {"issue-", "issue:"}} {
		if rest, ok := strings.CutPrefix(base, p.file); ok {
			return p.key + strings.ReplaceAll(rest, "-", "_")
		}
	}
	return base
}

// bitbucketDCKeyFromName: pr-opened → pr:opened, pr-comment-added →
// pr:comment:added, pr-reviewer-needs-work → pr:reviewer:needs_work,
// repo-refs-changed → repo:refs_changed, diagnostics-ping →
// diagnostics:ping.
func bitbucketDCKeyFromName(base string) string {
	switch base {
	case "repo-refs-changed":
		return "repo:refs_changed"
	case "pr-from-ref-updated":
		return "pr:from_ref_updated"
	case "pr-reviewer-needs-work":
		return "pr:reviewer:needs_work"
	}
	return strings.ReplaceAll(base, "-", ":")
}

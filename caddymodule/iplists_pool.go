package caddymodule

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/hookgate/caddy-hookgate/iplists"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// ipListsPool shares the published address lists across config reloads:
// a reload with the same ip_lists settings keeps the copies it has, so it
// neither fetches them again nor answers 503 while they reload.
var ipListsPool = caddy.NewUsagePool()

// ipListClientTimeout bounds one list fetch, connection included.
const ipListClientTimeout = 30 * time.Second

// pooledLists is the pool's value: the lists, fetching once started.
type pooledLists struct {
	lists *iplists.Lists
}

// Destruct stops fetching when the last config using the lists is gone.
func (p *pooledLists) Destruct() error {
	p.lists.Stop()
	return nil
}

// loadIPLists returns the shared lists for lc (nil: the defaults),
// creating them on first use. It fetches nothing: App.Start starts the
// fetching, Provision only says which lists are wanted.
func loadIPLists(lc *IPListsConfig, repl *caddy.Replacer) (*pooledLists, string, error) {
	var c IPListsConfig
	if lc != nil {
		c = *lc
	}
	urls := make(map[string]string, len(c.Lists))
	for name, u := range c.Lists {
		if !iplists.Known(name) {
			return nil, "", fmt.Errorf("hookgate: ip_lists: unknown list %q (known: %v)", name, iplists.Names())
		}
		if u = repl.ReplaceAll(u, ""); u != "" {
			urls[name] = u
		}
	}
	raw, err := json.Marshal(struct {
		Refresh time.Duration
		URLs    map[string]string
	}{time.Duration(c.Refresh), urls})
	if err != nil {
		return nil, "", fmt.Errorf("hookgate: ip_lists pool key: %w", err)
	}
	sum := sha256.Sum256(raw)
	key := "iplists:" + hex.EncodeToString(sum[:])
	val, _, err := ipListsPool.LoadOrNew(key, func() (caddy.Destructor, error) {
		base := &http.Client{Timeout: ipListClientTimeout}
		lists, err := iplists.New(iplists.Config{
			Refresh: time.Duration(c.Refresh),
			URLs:    urls,
			// The vendor API client's redirect rule: nothing off the
			// list URL's origin.
			Client: func(u *url.URL) *http.Client { return vendorapi.SameOriginClient(base, u) },
			Logger: caddy.Log().Named("hookgate.iplists"),
		})
		if err != nil {
			return nil, err
		}
		return &pooledLists{lists: lists}, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("hookgate: ip_lists: %w", err)
	}
	p := val.(*pooledLists)
	for name := range c.Lists {
		p.lists.Want(name)
	}
	return p, key, nil
}

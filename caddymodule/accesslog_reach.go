package caddymodule

import (
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// hookgateReach is which request hosts reach a server's hookgate
// handlers: any host, or only those the host matchers on the way name.
type hookgateReach struct {
	anyHost bool
	hosts   []string // lowercased, sorted, each once
}

// serverReach finds where srv routes to hookgate: its routes, their
// subroutes, its error routes and its named routes (which any route may
// invoke, so they reach any host). False when no route of srv does.
func serverReach(srv *caddyhttp.Server) (hookgateReach, bool) {
	var w reachWalk
	w.routes(srv.Routes, nil, false)
	if srv.Errors != nil {
		w.routes(srv.Errors.Routes, nil, false)
	}
	for _, rt := range srv.NamedRoutes {
		w.route(rt, nil, false)
	}
	slices.Sort(w.reach.hosts)
	w.reach.hosts = slices.Compact(w.reach.hosts)
	return w.reach, w.found
}

// reachWalk collects where the hookgate handlers of a route tree are.
type reachWalk struct {
	reach hookgateReach
	found bool
}

func (w *reachWalk) routes(rs caddyhttp.RouteList, hosts []string, bound bool) {
	for i := range rs {
		w.route(&rs[i], hosts, bound)
	}
}

// route walks rt's handlers; hosts (when bound) are the hosts an
// enclosing route already limits rt to. The outermost limit is kept: the
// inner ones can only narrow it, so it is never too small.
func (w *reachWalk) route(rt *caddyhttp.Route, hosts []string, bound bool) {
	if !bound {
		hosts, bound = routeHosts(rt)
	}
	for _, h := range rt.Handlers {
		switch h := h.(type) {
		case *Handler:
			w.found = true
			if bound {
				w.reach.hosts = append(w.reach.hosts, hosts...)
			} else {
				w.reach.anyHost = true
			}
		case *caddyhttp.Subroute:
			w.routes(h.Routes, hosts, bound)
			if h.Errors != nil {
				w.routes(h.Errors.Routes, hosts, bound)
			}
		}
	}
}

// routeHosts is the hosts rt matches, when each of its matcher sets has a
// host matcher without placeholders; false when rt matches some request
// whatever its host.
func routeHosts(rt *caddyhttp.Route) ([]string, bool) {
	if len(rt.MatcherSets) == 0 {
		return nil, false
	}
	var hosts []string
	for _, set := range rt.MatcherSets {
		limited := false
		for _, m := range set {
			var mh caddyhttp.MatchHost
			switch m := m.(type) {
			case caddyhttp.MatchHost:
				mh = m
			case *caddyhttp.MatchHost:
				mh = *m
			default:
				continue
			}
			for _, h := range mh {
				if strings.Contains(h, "{") {
					return nil, false
				}
				hosts = append(hosts, strings.ToLower(h))
			}
			limited = true
		}
		if !limited {
			return nil, false
		}
	}
	return hosts, true
}

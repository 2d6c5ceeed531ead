// Command xcaddyargs prints the arguments `xcaddy build` needs for the
// Caddy version and plugins pinned in xcaddy.json, one per line, so the
// Makefile never repeats them.
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// manifest is the shape of xcaddy.json.
type manifest struct {
	CaddyVersion string `json:"caddy_version"`
	Plugins      []struct {
		Module  string `json:"module"`
		Version string `json:"version"`
		Replace string `json:"replace"`
	} `json:"plugins"`
}

func main() {
	path := "xcaddy.json"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "xcaddyargs:", err)
		os.Exit(1)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil || m.CaddyVersion == "" {
		fmt.Fprintf(os.Stderr, "xcaddyargs: %s: need caddy_version and plugins (%v)\n", path, err)
		os.Exit(1)
	}
	fmt.Println(m.CaddyVersion)
	for _, p := range m.Plugins {
		spec := p.Module
		if p.Version != "" {
			spec += "@" + p.Version
		}
		if p.Replace != "" {
			spec += "=" + p.Replace
		}
		fmt.Println("--with")
		fmt.Println(spec)
	}
}

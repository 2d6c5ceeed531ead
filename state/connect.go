package state

import (
	"time"

	"github.com/redis/go-redis/v9"
)

// ClientOptions locate a Redis: one address for a single server, several
// for a cluster, or sentinels with MasterName.
type ClientOptions struct {
	Addrs      []string
	MasterName string
	Username   string
	Password   string
	DB         int
	// DialTimeout and IOTimeout bound each connection attempt and each
	// read or write: a Redis that does not answer in time is down.
	DialTimeout, IOTimeout time.Duration
}

// NewClient returns a client for o (single server, cluster or sentinel,
// as go-redis's UniversalClient chooses). It retries once and redials
// once, so that a Redis that is down is reported promptly and the vendor
// is answered 503 rather than left waiting. It does no I/O.
func NewClient(o ClientOptions) redis.UniversalClient {
	return redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:         o.Addrs,
		MasterName:    o.MasterName,
		Username:      o.Username,
		Password:      o.Password,
		DB:            o.DB,
		DialTimeout:   o.DialTimeout,
		ReadTimeout:   o.IOTimeout,
		WriteTimeout:  o.IOTimeout,
		MaxRetries:    1,
		DialerRetries: 1,
	})
}

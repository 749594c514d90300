package stack

import (
	"fmt"

	"github.com/ably-fanout/lib/redisproc"
	"github.com/alicebob/miniredis/v2"
)

// Redis is the Redis server the stack uses, and how it was found.
type Redis struct {
	// URL is a redis:// or rediss:// URL for the services.
	URL string
	// Kind is the source of the server: "external", "redis-server" or
	// "embedded".
	Kind string
	// Proc is set when Kind is redis-server, for tests that restart or kill it.
	Proc *redisproc.Server

	mini *miniredis.Miniredis
}

// StartRedis returns the server at url when url is set. Otherwise it starts
// a local redis-server on a free port with its data in dir, or, when none is
// installed, an embedded Redis (miniredis) inside this process.
func StartRedis(url, dir string) (*Redis, error) {
	if url != "" {
		return &Redis{URL: url, Kind: "external"}, nil
	}
	if redisproc.Installed() {
		proc, err := redisproc.Start(redisproc.Options{Dir: dir, AppendOnly: true})
		if err != nil {
			return nil, err
		}
		return &Redis{URL: proc.URL(), Kind: "redis-server", Proc: proc}, nil
	}
	mini := miniredis.NewMiniRedis()
	if err := mini.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start embedded redis: %w", err)
	}
	return &Redis{URL: "redis://" + mini.Addr(), Kind: "embedded", mini: mini}, nil
}

// Stop shuts down a server that StartRedis started; an external one is left
// running.
func (r *Redis) Stop() {
	switch {
	case r.Proc != nil:
		r.Proc.Stop()
	case r.mini != nil:
		r.mini.Close()
	}
}

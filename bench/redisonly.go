package main

import (
	"os"
	"path/filepath"

	"github.com/ably-fanout/lib/redisproc"
	"github.com/redis/go-redis/v9"
)

// startRedisOnly starts a private redis-server without the emulator, for
// the limiter benchmark.
func startRedisOnly(dir string) (*env, error) {
	if err := os.MkdirAll(filepath.Join(dir, "redis"), 0o755); err != nil {
		return nil, err
	}
	server, err := redisproc.Start(redisproc.Options{Dir: filepath.Join(dir, "redis")})
	if err != nil {
		return nil, err
	}
	opts, err := redis.ParseURL(server.URL())
	if err != nil {
		server.Stop()
		return nil, err
	}
	opts.PoolSize = 2 * limiterConcurrency
	return &env{dir: dir, redis: server, rdb: redis.NewClient(opts)}, nil
}

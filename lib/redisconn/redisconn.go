// Package redisconn holds the Redis connection settings both services share
// and turns them into go-redis options.
package redisconn

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/ably-fanout/lib/envconfig"
	"github.com/redis/go-redis/v9"
)

// Config locates the Redis server and the queue in it.
type Config struct {
	// URL, when set, wins over Host, Port and Password: redis:// or rediss://.
	URL string
	// Host is the server's host name. Default localhost.
	Host string
	// Port is the server's TCP port. Default 6379.
	Port int
	// Password authenticates with AUTH. Default none.
	Password string
	// QueueKey is the Redis list the trades wait in. Default myJobQueue.
	QueueKey string
}

// Register adds the Redis settings to set with the names and defaults of
// Ably's original Redis broadcasting demo.
func Register(set *envconfig.Set, c *Config) {
	set.URL(&c.URL, "REDIS_URL", []string{"redis", "rediss"},
		"Redis URL such as redis://:password@host:6379/0; wins over REDIS_HOST, REDIS_PORT and REDIS_PASSWORD")
	set.String(&c.Host, "REDIS_HOST", "localhost", "Redis host name")
	set.Int(&c.Port, "REDIS_PORT", 6379, 1, 65535, "Redis TCP port")
	set.Secret(&c.Password, "REDIS_PASSWORD", "Redis password")
	set.String(&c.QueueKey, "QUEUE_KEY", "myJobQueue", "Redis list that holds the trades waiting to be published")
}

// Options returns go-redis options for c. Timeouts are short enough that a
// lost server is noticed within seconds, and the client never retries a
// command on its own, so that a script is never run twice.
func (c Config) Options() (*redis.Options, error) {
	var opts *redis.Options
	if c.URL != "" {
		var err error
		opts, err = redis.ParseURL(c.URL)
		if err != nil {
			return nil, fmt.Errorf("parse REDIS_URL: %w", err)
		}
	} else {
		if c.Host == "" {
			return nil, fmt.Errorf("invalid REDIS_HOST: empty")
		}
		opts = &redis.Options{
			Addr:     net.JoinHostPort(c.Host, strconv.Itoa(c.Port)),
			Password: c.Password,
		}
	}
	opts.MaxRetries = -1
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = 3 * time.Second
	opts.WriteTimeout = 3 * time.Second
	return opts, nil
}

// Validate checks the settings that Register cannot check one by one.
func (c Config) Validate() error {
	if c.QueueKey == "" {
		return fmt.Errorf("invalid QUEUE_KEY: empty")
	}
	_, err := c.Options()
	return err
}

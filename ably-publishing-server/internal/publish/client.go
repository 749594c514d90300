// Package publish sends trades to an Ably channel with the ably-go REST
// client and sorts publish errors into what the worker should do next.
package publish

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/ably/ably-go/ably"
)

// ErrInvalidEndpoint means ClientConfig.Endpoint is not empty and not an
// http or https URL with a host and no path.
var ErrInvalidEndpoint = errors.New("invalid Ably endpoint")

// ClientConfig configures the REST client.
type ClientConfig struct {
	// Key is the Ably API key, appId.keyId:secret. Required.
	Key string
	// Endpoint is empty for Ably itself, or the base URL of an Ably-compatible
	// server such as the local emulator, http://host:port. Default empty.
	Endpoint string
	// RequestTimeout bounds one HTTP request to Ably. Default 10s, as in
	// ably-go.
	RequestTimeout time.Duration
	// Logger receives ably-go's own warnings and errors at debug level,
	// because the worker logs every failure it handles itself. Default: no
	// ably-go log output.
	Logger *slog.Logger
}

// NewClient returns a REST client for cfg. It makes no network call.
//
// Idempotent REST publishing of ably-go is turned off. It would only add a
// random id to messages without one, and every message of this service
// carries its trade id, which Ably then uses to drop a repeated publish.
//
// NOTE: against Ably itself, ably-go retries a request that failed with a
// 5xx or a timeout on up to 3 fallback hosts within one Publish call. Those
// retries carry the same message id but take no limiter slot.
func NewClient(cfg ClientConfig) (*ably.REST, error) {
	opts, err := ClientOptions(cfg)
	if err != nil {
		return nil, err
	}
	client, err := ably.NewREST(opts...)
	if err != nil {
		return nil, fmt.Errorf("create Ably REST client: %w", err)
	}
	return client, nil
}

// ClientOptions returns the ably-go options that NewClient uses.
func ClientOptions(cfg ClientConfig) ([]ably.ClientOption, error) {
	timeout := cfg.RequestTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	opts := []ably.ClientOption{
		ably.WithKey(cfg.Key),
		ably.WithIdempotentRESTPublishing(false),
		ably.WithHTTPRequestTimeout(timeout),
		ably.WithHTTPClient(newHTTPClient(timeout)),
		ably.WithLogLevel(ably.LogWarning),
		ably.WithLogHandler(logAdapter{logger: cfg.Logger}),
	}
	if cfg.Endpoint == "" {
		return opts, nil
	}
	endpoint, err := ParseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	return append(opts, endpoint.clientOptions()...), nil
}

// Endpoint is the address of an Ably-compatible server.
type Endpoint struct {
	Host string
	Port int
	TLS  bool
}

// ParseEndpoint parses http://host[:port] or https://host[:port].
func ParseEndpoint(raw string) (Endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return Endpoint{}, fmt.Errorf("%w %q: expected a URL such as http://127.0.0.1:8081", ErrInvalidEndpoint, raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return Endpoint{}, fmt.Errorf("%w %q: expected no path, query or user name", ErrInvalidEndpoint, raw)
	}
	e := Endpoint{Host: u.Hostname(), TLS: u.Scheme == "https", Port: 80}
	if e.TLS {
		e.Port = 443
	}
	if p := u.Port(); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return Endpoint{}, fmt.Errorf("%w %q: port %q is not from 1 to 65535", ErrInvalidEndpoint, raw, p)
		}
		e.Port = port
	}
	return e, nil
}

// String returns the endpoint as a URL.
func (e Endpoint) String() string {
	scheme := "http"
	if e.TLS {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(e.Host, strconv.Itoa(e.Port))
}

// clientOptions points ably-go v1.4.1 at the endpoint.
//
// WithRESTHost is deprecated in favour of WithEndpoint, but WithEndpoint
// takes a name without a dot, such as the Kubernetes service name
// "ably-emulator", for a routing policy and turns it into
// ably-emulator.realtime.ably.net. WithRESTHost uses any host as given,
// and with a custom host ably-go uses no fallback hosts, so every request
// goes to this endpoint. The realtime host is set to the same host only so
// that ably-go does not warn that it is missing.
func (e Endpoint) clientOptions() []ably.ClientOption {
	opts := []ably.ClientOption{
		ably.WithRESTHost(e.Host),
		ably.WithRealtimeHost(e.Host),
		ably.WithTLS(e.TLS),
	}
	if e.TLS {
		return append(opts, ably.WithTLSPort(e.Port))
	}
	// Without TLS ably-go refuses basic auth, which sends the key itself,
	// unless this option allows it. Use plain HTTP only on a trusted
	// network, such as loopback for the emulator.
	return append(opts, ably.WithPort(e.Port), ably.WithInsecureAllowBasicAuthWithoutTLS())
}

// logAdapter passes ably-go log lines to slog at debug level.
type logAdapter struct {
	logger *slog.Logger
}

func (a logAdapter) Printf(level ably.LogLevel, format string, v ...any) {
	if a.logger == nil {
		return
	}
	a.logger.Debug("ably-go: "+fmt.Sprintf(format, v...), slog.String("ably_level", level.String()))
}

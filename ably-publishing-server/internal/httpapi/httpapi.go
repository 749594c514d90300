// Package httpapi serves the publisher's HTTP endpoints on one port: the
// browser's subscribe-only token request and settings, and the liveness
// and readiness probes.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ably-fanout/ably-publishing-server/internal/health"
	"github.com/ably/ably-go/ably"
	"github.com/redis/go-redis/v9"
)

// Errors returned by Config.Validate.
var (
	// ErrInvalidConfig means a Config field is missing or out of range.
	ErrInvalidConfig = errors.New("invalid HTTP API config")
)

// Config configures the endpoints.
type Config struct {
	// Channel is the Ably channel the browser may subscribe to, or with
	// Routed the capability pattern that matches every channel, such as
	// "trades:*". Required.
	Channel string
	// Routed means the trades go to many channels. /config then returns an
	// empty channel, Channel as channelPattern and Channels as channels.
	// Default false.
	Routed bool
	// Channels are the channels /config lists when Routed. Default none.
	Channels []string
	// TokenTTL is the lifetime of the tokens issued through /token. Default
	// 15m.
	TokenTTL time.Duration
	// ClientAblyEndpoint is the Ably endpoint that /config sends to the
	// browser: empty for Ably itself, or the emulator's base URL. Default
	// empty.
	ClientAblyEndpoint string
	// PingTimeout bounds the Redis PING of /readyz. Default 1s.
	PingTimeout time.Duration
	// Stats returns the value that GET /stats serves as JSON: the
	// replica's counters. Default nil, which leaves out /stats.
	Stats func() any
}

// Validate returns an error that names the first invalid field.
func (c Config) Validate() error {
	if c.Channel == "" {
		return fmt.Errorf("%w: empty Channel", ErrInvalidConfig)
	}
	if c.TokenTTL < 0 {
		return fmt.Errorf("%w: TokenTTL %s, expected 0 for the default or more", ErrInvalidConfig, c.TokenTTL)
	}
	return nil
}

// TokenRequester signs token requests without a network call; *ably.Auth
// implements it.
type TokenRequester interface {
	CreateTokenRequest(params *ably.TokenParams, opts ...ably.AuthOption) (*ably.TokenRequest, error)
}

// Pinger sends a Redis PING; *redis.Client implements it.
type Pinger interface {
	Ping(ctx context.Context) *redis.StatusCmd
}

// API serves the endpoints.
type API struct {
	cfg        Config
	capability string
	auth       TokenRequester
	redis      Pinger
	health     *health.State
	logger     *slog.Logger
}

// New returns the API, or an error when cfg is invalid.
func New(cfg Config, auth TokenRequester, redis Pinger, state *health.State, logger *slog.Logger) (*API, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 15 * time.Minute
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = time.Second
	}
	capability, err := SubscribeCapability(cfg.Channel)
	if err != nil {
		return nil, err
	}
	return &API{cfg: cfg, capability: capability, auth: auth, redis: redis, health: state, logger: logger}, nil
}

// SubscribeCapability returns the Ably capability that allows subscribing to
// channel and reading its history, and nothing else.
func SubscribeCapability(channel string) (string, error) {
	b, err := json.Marshal(map[string][]string{channel: {"subscribe", "history"}})
	if err != nil {
		return "", fmt.Errorf("encode capability: %w", err)
	}
	return string(b), nil
}

// Handler returns the routes:
//
//	GET /token    signed Ably TokenRequest, subscribe-only, for ably-js authUrl
//	GET /config   {"channel": ..., "ablyEndpoint": ...} for the browser page
//	GET /healthz  200 while the process runs
//	GET /readyz   200 when Redis replies to PING, the Ably key is not known bad and
//	              shutdown has not started; 503 with the reason otherwise
//	GET /stats    the replica's counters as JSON, when Config.Stats is set
//
// /token and /config allow any origin, because the page may be opened from
// a file, and they respond to the CORS preflight.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /token", cors(a.token))
	mux.HandleFunc("OPTIONS /token", cors(preflight))
	mux.HandleFunc("GET /config", cors(a.config))
	mux.HandleFunc("OPTIONS /config", cors(preflight))
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	if a.cfg.Stats != nil {
		mux.HandleFunc("GET /stats", a.stats)
	}
	return mux
}

func (a *API) token(w http.ResponseWriter, r *http.Request) {
	params := &ably.TokenParams{
		TTL:        a.cfg.TokenTTL.Milliseconds(),
		Capability: a.capability,
	}
	req, err := a.auth.CreateTokenRequest(params)
	if err != nil {
		a.logger.Error("create token request failed", "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "create token request failed; see the publisher log"})
		return
	}
	writeJSON(w, http.StatusOK, req)
}

type clientConfig struct {
	Channel      string `json:"channel"`
	AblyEndpoint string `json:"ablyEndpoint"`
	// ChannelPattern and Channels are set only when the trades go to many
	// channels: the browser subscribes to each of Channels.
	ChannelPattern string   `json:"channelPattern,omitempty"`
	Channels       []string `json:"channels,omitempty"`
}

func (a *API) config(w http.ResponseWriter, r *http.Request) {
	out := clientConfig{Channel: a.cfg.Channel, AblyEndpoint: a.cfg.ClientAblyEndpoint}
	if a.cfg.Routed {
		out.Channel = ""
		out.ChannelPattern = a.cfg.Channel
		out.Channels = a.cfg.Channels
		if out.Channels == nil {
			out.Channels = []string{}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type probeStatus struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, probeStatus{Status: "ok"})
}

func (a *API) stats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.cfg.Stats())
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	if reason, ok := a.notReadyReason(r.Context()); !ok {
		writeJSON(w, http.StatusServiceUnavailable, probeStatus{Status: "not ready", Reason: reason})
		return
	}
	writeJSON(w, http.StatusOK, probeStatus{Status: "ready"})
}

// notReadyReason returns why the replica is not ready, and ok=true when it
// is ready.
func (a *API) notReadyReason(ctx context.Context) (reason string, ok bool) {
	if a.health.ShuttingDown() {
		return "shutting down", false
	}
	if reason, failed := a.health.AblyFailure(); failed {
		return reason, false
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.PingTimeout)
	defer cancel()
	if err := a.redis.Ping(ctx).Err(); err != nil {
		return "redis unreachable: " + err.Error(), false
	}
	return "", true
}

func cors(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "GET, OPTIONS")
		if requested := r.Header.Get("Access-Control-Request-Headers"); requested != "" {
			h.Set("Access-Control-Allow-Headers", requested)
		}
		h.Set("Access-Control-Max-Age", "600")
		next(w, r)
	}
}

func preflight(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

package emulator

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
)

// Server is an Ably emulator. Create it with New, serve Handler with an
// http.Server, and call Close after the http.Server has shut down.
type Server struct {
	cfg           Config
	log           *slog.Logger
	logLimiter    *logLimiter
	serverID      string
	keys          map[string]APIKey // by key name
	keyCapability capability
	tokens        *tokenStore
	channels      *channelRegistry
	faults        *faultQueue
	states        *connectionStates
	pause         *pauseGate
	handler       http.Handler

	closing   chan struct{}
	closeOnce sync.Once

	connsMu       sync.Mutex
	conns         map[*connection]struct{}
	connsDone     sync.WaitGroup
	opened        atomic.Int64
	slowConsumers atomic.Int64
	resumed       atomic.Int64
	resumeFailed  atomic.Int64
	dropped       atomic.Int64
	refused       atomic.Int64
}

// New returns a Server for cfg, whose zero fields take their defaults. A nil
// logger discards the log.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	keys := make(map[string]APIKey, len(cfg.Keys))
	for _, raw := range cfg.Keys {
		key, err := ParseKey(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		keys[key.Name()] = key
	}
	keyCapability, err := parseCapability(allCapability)
	if err != nil {
		return nil, fmt.Errorf("parse key capability: %w", err)
	}
	s := &Server{
		cfg:           cfg,
		log:           logger,
		logLimiter:    newLogLimiter(),
		serverID:      "emulator-" + randomAlphanumeric(8),
		keys:          keys,
		keyCapability: keyCapability,
		tokens:        newTokenStore(),
		channels:      newChannelRegistry(cfg),
		faults:        &faultQueue{},
		states:        newConnectionStates(),
		pause:         &pauseGate{},
		closing:       make(chan struct{}),
		conns:         make(map[*connection]struct{}),
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the HTTP handler that serves the REST API, the realtime
// endpoint at GET / and the /_emulator/ endpoints.
func (s *Server) Handler() http.Handler {
	return s.handler
}

// KeyNames returns the names (appId.keyId) of the accepted keys, sorted.
func (s *Server) KeyNames() []string {
	names := make([]string, 0, len(s.keys))
	for name := range s.keys {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Close shuts the emulator down: it stops accepting realtime connections,
// sends DISCONNECTED to every open connection so that clients reconnect
// elsewhere, waits for the connections to end, and aborts those still open
// when ctx is done. Call it after http.Server.Shutdown has stopped the REST
// traffic, because Shutdown does not wait for WebSocket connections.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { close(s.closing) })
	s.DisconnectAll()
	done := make(chan struct{})
	go func() {
		s.connsDone.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.connsMu.Lock()
		for c := range s.conns {
			c.abort()
		}
		s.connsMu.Unlock()
		<-done
		return fmt.Errorf("close emulator: %w", ctx.Err())
	}
}

func (s *Server) isClosing() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

// DisconnectAll sends DISCONNECTED (error 80003) to every realtime
// connection and closes it. Clients reconnect at once and resume their
// connection. It returns the number of connections closed.
func (s *Server) DisconnectAll() int {
	conns := s.connections()
	for _, c := range conns {
		c.sendFinal(&ProtocolMessage{
			Action: actionDisconnected,
			Error:  errBadRequest(codeDisconnected, "disconnected by the emulator"),
		})
	}
	if len(conns) > 0 {
		s.log.Info("disconnected realtime connections", "count", len(conns))
	}
	return len(conns)
}

// connections returns the open connections.
func (s *Server) connections() []*connection {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	conns := make([]*connection, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return conns
}

// register adds a connection to the registry; it returns false once the
// server is closing.
func (s *Server) register(c *connection) bool {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	if s.isClosing() {
		return false
	}
	s.conns[c] = struct{}{}
	s.connsDone.Add(1)
	s.opened.Add(1)
	return true
}

func (s *Server) unregister(c *connection) {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	if _, ok := s.conns[c]; ok {
		delete(s.conns, c)
		s.connsDone.Done()
	}
}

func (s *Server) countSlowConsumer(c *connection) {
	s.slowConsumers.Add(1)
	s.logLimiter.warn(c.log, "slow consumer", "closing realtime connection: send queue is full",
		"send_queue_size", s.cfg.SendQueueSize, "code", codeSlowConsumer)
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	stats := Stats{Channels: make(map[string]ChannelStats)}
	for _, ch := range s.channels.all() {
		stats.Channels[ch.name] = ch.snapshot()
	}
	s.connsMu.Lock()
	stats.Connections.Active = len(s.conns)
	s.connsMu.Unlock()
	stats.Connections.Opened = s.opened.Load()
	stats.Connections.SlowConsumerDisconnects = s.slowConsumers.Load()
	stats.Connections.Resumed = s.resumed.Load()
	stats.Connections.ResumeFailed = s.resumeFailed.Load()
	stats.Connections.Dropped = s.dropped.Load()
	stats.Connections.Refused = s.refused.Load()
	return stats
}

// Messages returns the accepted messages of a channel in arrival order, at
// most Config.RecordLimit of the latest, or nil for an unknown channel.
func (s *Server) Messages(channelName string) []RecordedMessage {
	ch, ok := s.channels.lookup(channelName)
	if !ok {
		return nil
	}
	ch.mu.Lock()
	entries := ch.records.entries()
	ch.mu.Unlock()
	return recordedMessages(entries)
}

// AddFault queues a fault for the next publishes; the error wraps
// ErrInvalidFault.
func (s *Server) AddFault(f Fault) error {
	if err := f.validate(); err != nil {
		return err
	}
	s.faults.add(f)
	s.log.Info("fault added", "channel", f.Channel, "status", f.Status, "code", f.Code,
		"count", f.Count, "delay_ms", f.DelayMs)
	return nil
}

// ClearFaults removes every queued fault.
func (s *Server) ClearFaults() {
	s.faults.clear()
	s.log.Info("faults cleared")
}

// Faults returns the queued faults, with Count set to the remaining uses
// (0 for a fault that applies until cleared).
func (s *Server) Faults() []Fault {
	return s.faults.list()
}

package emulator

import (
	"sync"
	"time"
)

// takeoverTimeout bounds the wait for a connection that a resuming client
// replaces to end and save its state.
const takeoverTimeout = 5 * time.Second

// attachment is one channel attachment of a connection.
type attachment struct {
	modes int64
	// since is the channel position when the attachment was made. A
	// resuming client that received no message since then missed every
	// message after it.
	since position
}

// savedConnection is the state of a connection whose transport ended
// without CLOSE or a fatal error. It is kept for ConnectionStateTTL so that
// the client can resume the connection with the same id.
type savedConnection struct {
	id          string
	key         string
	keyName     string
	clientID    string
	attachments map[string]attachment
	expires     time.Time
}

// connectionStates holds the saved connections by connection key. Expired
// entries are removed whenever an entry is saved, so the map holds at most
// the connections that ended within the last ConnectionStateTTL.
type connectionStates struct {
	mu    sync.Mutex
	byKey map[string]*savedConnection
}

func newConnectionStates() *connectionStates {
	return &connectionStates{byKey: make(map[string]*savedConnection)}
}

func (s *connectionStates) save(saved *savedConnection, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, entry := range s.byKey {
		if !now.Before(entry.expires) {
			delete(s.byKey, key)
		}
	}
	s.byKey[saved.key] = saved
}

// take removes and returns the saved connection of key, or false when there
// is none or it has expired.
func (s *connectionStates) take(key string, now time.Time) (*savedConnection, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	saved, ok := s.byKey[key]
	if !ok {
		return nil, false
	}
	delete(s.byKey, key)
	if !now.Before(saved.expires) {
		return nil, false
	}
	return saved, true
}

// saveState keeps the state of a connection that has ended, unless it
// cannot be resumed: it never sent CONNECTED, the client closed it, it
// failed with ERROR, or the emulator is shutting down. Attachments restored
// by a resume that the client has not attached again are kept too.
func (c *connection) saveState(attached map[string]attachment) {
	if !c.resumable.Load() || c.srv.isClosing() {
		return
	}
	c.mu.Lock()
	attachments := make(map[string]attachment, len(attached)+len(c.restored))
	for name, a := range c.restored {
		attachments[name] = a
	}
	p := c.principal
	c.mu.Unlock()
	for name, a := range attached {
		attachments[name] = a
	}
	now := c.srv.cfg.Now()
	c.srv.states.save(&savedConnection{
		id:          c.id,
		key:         c.key,
		keyName:     p.keyName,
		clientID:    p.clientID,
		attachments: attachments,
		expires:     now.Add(c.srv.cfg.ConnectionStateTTL),
	}, now)
}

// resume gives c the identity and attachments of the connection whose key
// the client sent, so the client keeps its connection id. A connection with
// that key that is still open, because the server has not yet seen its
// transport fail, is closed first. With recover, the id is kept but the
// attachments are not, as Ably does not keep them in recover mode. The
// returned error, code 80008, means the client gets a new connection.
func (s *Server) resume(c *connection, key string, p *principal, recover bool) *ErrorInfo {
	s.closeConnectionWithKey(key, c)
	saved, ok := s.states.take(key, s.cfg.Now())
	if !ok {
		s.resumeFailed.Add(1)
		return errBadRequest(codeConnectionExpired,
			"unable to recover connection (connection expired): the connection key is unknown or its state expired %s after the transport ended",
			s.cfg.ConnectionStateTTL)
	}
	if saved.keyName != p.keyName || saved.clientID != p.clientID {
		s.resumeFailed.Add(1)
		return errBadRequest(codeConnectionExpired,
			"unable to recover connection: the credentials differ from the ones the connection was opened with")
	}
	c.mu.Lock()
	c.id = saved.id
	c.key = saved.key
	if !recover {
		c.restored = saved.attachments
	}
	c.mu.Unlock()
	c.log = s.log.With("connection_id", c.id)
	s.resumed.Add(1)
	return nil
}

// closeConnectionWithKey aborts the open connection with key, other than
// except, and waits until it has saved its state.
func (s *Server) closeConnectionWithKey(key string, except *connection) {
	s.connsMu.Lock()
	var old *connection
	for c := range s.conns {
		if c != except && c.connectionKey() == key {
			old = c
			break
		}
	}
	s.connsMu.Unlock()
	if old == nil {
		return
	}
	old.log.Debug("closing realtime connection replaced by a resume")
	old.abort()
	timer := time.NewTimer(takeoverTimeout)
	defer timer.Stop()
	select {
	case <-old.done:
	case <-timer.C:
		old.log.Warn("replaced realtime connection did not end in time; resume may fail",
			"timeout", takeoverTimeout.String())
	}
}

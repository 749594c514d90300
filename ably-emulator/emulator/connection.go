package emulator

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

const (
	// writeTimeout bounds one WebSocket write; a peer that takes longer is
	// dropped.
	writeTimeout = 10 * time.Second
	// pingTimeout bounds a WebSocket ping sent as a heartbeat.
	pingTimeout = 10 * time.Second
	// closeHandshakeTimeout bounds the wait for the peer to close the
	// WebSocket after the final frame.
	closeHandshakeTimeout = time.Second
)

// connection is one realtime client connection. Two goroutines serve it:
// the reader (the HTTP handler goroutine, in run) and the writer, which owns
// all writes to the WebSocket. Other goroutines only queue frames on sendq,
// which never blocks them.
type connection struct {
	srv    *Server
	ws     *websocket.Conn
	log    *slog.Logger
	id     string
	key    string
	format format
	// echo is false when the client asked not to receive its own messages.
	echo bool
	// protocolHeartbeats is true when the client asked for HEARTBEAT
	// messages; otherwise heartbeats are WebSocket pings.
	protocolHeartbeats bool

	ctx    context.Context
	cancel context.CancelFunc
	sendq  chan outboundFrame
	// readerDone is closed when the reader has stopped.
	readerDone chan struct{}
	// finalQueued is set once a final frame is queued, so a second one
	// (for example CLOSED after DISCONNECTED) is dropped.
	finalQueued atomic.Bool
	// resumable is set once CONNECTED is sent and cleared when the
	// connection ends with CLOSED or ERROR: only a resumable connection
	// saves its state for a later resume.
	resumable atomic.Bool
	// done is closed when run has returned and the state is saved.
	done chan struct{}

	mu        sync.Mutex // guards the fields below, and key while resume sets it
	principal *principal
	attached  map[string]attachment // by channel name
	// restored holds the attachments that a resume carried over and that
	// the client has not attached again yet.
	restored    map[string]attachment
	expiryTimer *time.Timer
}

func (s *Server) newConnection(ws *websocket.Conn, f format) *connection {
	ctx, cancel := context.WithCancel(context.Background())
	c := &connection{
		srv:        s,
		ws:         ws,
		id:         randomAlphanumeric(10),
		key:        randomAlphanumeric(8) + "!" + randomAlphanumeric(16),
		format:     f,
		echo:       true,
		ctx:        ctx,
		cancel:     cancel,
		sendq:      make(chan outboundFrame, s.cfg.SendQueueSize),
		readerDone: make(chan struct{}),
		done:       make(chan struct{}),
		attached:   make(map[string]attachment),
	}
	c.log = s.log.With("connection_id", c.id)
	return c
}

// send queues a protocol message. It returns false if the connection is
// closing or was just closed as a slow consumer.
func (c *connection) send(pm *ProtocolMessage) bool {
	frame, err := encodeFrame(c.format, pm)
	if err != nil {
		c.srv.logLimiter.warn(c.log, "encode protocol message", "failed to encode protocol message",
			"action", pm.Action, "error", err)
		return false
	}
	return c.enqueue(frame)
}

// sendFinal queues pm as the last message of the connection, after which
// the writer closes the WebSocket. pm may be nil to only close.
func (c *connection) sendFinal(pm *ProtocolMessage) {
	if !c.finalQueued.CompareAndSwap(false, true) {
		return
	}
	if pm != nil && (pm.Action == actionClosed || pm.Action == actionError) {
		c.resumable.Store(false)
	}
	frame := outboundFrame{final: true}
	if pm != nil {
		encoded, err := encodeFrame(c.format, pm)
		if err != nil {
			c.log.Warn("failed to encode final protocol message", "action", pm.Action, "error", err)
		} else {
			encoded.final = true
			frame = encoded
		}
	}
	c.enqueue(frame)
}

// enqueue queues a frame without blocking. When the queue is full the
// connection is closed as a slow consumer, so a publisher never waits for a
// subscriber.
func (c *connection) enqueue(frame outboundFrame) bool {
	if c.ctx.Err() != nil {
		return false
	}
	select {
	case c.sendq <- frame:
		return true
	default:
		c.srv.countSlowConsumer(c)
		c.abort()
		return false
	}
}

// abort closes the connection without a close handshake. It does not block:
// it cancels the context, which ends a pending read or write.
func (c *connection) abort() {
	c.cancel()
}

// run serves the connection until it closes. The shutdown order is: the
// reader stops, because the peer closed or the context was cancelled after
// a final frame, a write error, a queue overflow or a drop. Then the context
// is cancelled so the writer stops, the WebSocket is closed, the connection
// leaves its channels, and its state is saved for a resume. The caller
// removes it from the server registry last.
func (c *connection) run() {
	defer close(c.done)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	c.readLoop()
	close(c.readerDone)
	c.cancel()
	<-writerDone
	_ = c.ws.CloseNow()
	attached := c.detachAll()
	c.stopExpiryTimer()
	c.saveState(attached)
}

// connectionKey returns the key that a client resumes the connection with.
func (c *connection) connectionKey() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.key
}

// writeLoop writes queued frames and sends a heartbeat after
// HeartbeatInterval without other output.
func (c *connection) writeLoop() {
	heartbeat := time.NewTimer(c.srv.cfg.HeartbeatInterval)
	defer heartbeat.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case frame := <-c.sendq:
			if frame.data != nil {
				if err := c.write(frame); err != nil {
					c.logWriteError(err)
					c.cancel()
					return
				}
			}
			if frame.final {
				c.awaitPeerClose()
				return
			}
		case <-heartbeat.C:
			if err := c.sendHeartbeat(); err != nil {
				c.logWriteError(err)
				c.cancel()
				return
			}
		}
		heartbeat.Reset(c.srv.cfg.HeartbeatInterval)
	}
}

func (c *connection) write(frame outboundFrame) error {
	ctx, cancel := context.WithTimeout(c.ctx, writeTimeout)
	defer cancel()
	return c.ws.Write(ctx, frame.messageType, frame.data)
}

func (c *connection) sendHeartbeat() error {
	if c.protocolHeartbeats {
		frame, err := encodeFrame(c.format, &ProtocolMessage{Action: actionHeartbeat})
		if err != nil {
			return err
		}
		return c.write(frame)
	}
	ctx, cancel := context.WithTimeout(c.ctx, pingTimeout)
	defer cancel()
	return c.ws.Ping(ctx)
}

// awaitPeerClose ends the connection after its final frame. Clients close
// the WebSocket themselves after CLOSED, DISCONNECTED or ERROR, and the
// reader then reads their close frame, to which the library replies. A client
// that does not close within closeHandshakeTimeout is cut off by cancelling
// the context. The library's own Close is not used because it waits 5
// seconds for a peer that has stopped reading, as ably-go does once it
// starts to reconnect.
func (c *connection) awaitPeerClose() {
	timer := time.NewTimer(closeHandshakeTimeout)
	defer timer.Stop()
	select {
	case <-c.readerDone:
	case <-timer.C:
	}
	c.cancel()
}

func (c *connection) logWriteError(err error) {
	if c.ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return
	}
	c.srv.logLimiter.warn(c.log, "write", "failed to write to realtime connection", "error", err)
}

// readLoop reads and handles protocol messages until the connection ends.
func (c *connection) readLoop() {
	for {
		messageType, data, err := c.ws.Read(c.ctx)
		if err != nil {
			if c.ctx.Err() == nil && websocket.CloseStatus(err) == -1 && !isClosedConnError(err) {
				c.log.Debug("realtime connection read ended", "error", err)
			}
			return
		}
		f := formatJSON
		if messageType == websocket.MessageBinary {
			f = formatMsgpack
		}
		var pm ProtocolMessage
		if err := unmarshal(f, data, &pm); err != nil {
			c.srv.logLimiter.warn(c.log, "decode protocol message", "invalid protocol message from client",
				"format", f.String(), "error", err)
			c.sendFinal(&ProtocolMessage{
				Action: actionError,
				Error:  errBadRequest(codeProtocolError, "protocol error: invalid %s protocol message: %v", f, err),
			})
			continue
		}
		c.handle(&pm)
	}
}

// currentPrincipal returns the credentials the connection holds now.
func (c *connection) currentPrincipal() *principal {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.principal
}

// setPrincipal replaces the credentials and schedules a DISCONNECTED with
// error 40142 at token expiry, as Ably does, so that the client renews its
// token and reconnects.
func (c *connection) setPrincipal(p *principal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.principal = p
	if c.expiryTimer != nil {
		c.expiryTimer.Stop()
		c.expiryTimer = nil
	}
	if p.method != authToken {
		return
	}
	// NOTE: the timer runs on the wall clock for the time left by
	// Config.Now, so with a fake clock it fires at an arbitrary moment.
	remaining := max(p.expires.Sub(c.srv.cfg.Now()), 0)
	c.expiryTimer = time.AfterFunc(remaining, func() {
		c.log.Debug("token expired; disconnecting realtime connection")
		c.sendFinal(&ProtocolMessage{
			Action: actionDisconnected,
			Error:  errUnauthorized(codeTokenExpired, "token expired"),
		})
	})
}

func (c *connection) stopExpiryTimer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.expiryTimer != nil {
		c.expiryTimer.Stop()
		c.expiryTimer = nil
	}
}

// detachAll removes the connection from the subscribers of every channel it
// attached and returns the attachments it had.
func (c *connection) detachAll() map[string]attachment {
	c.mu.Lock()
	attached := c.attached
	c.attached = make(map[string]attachment)
	c.mu.Unlock()
	for name := range attached {
		if ch, ok := c.srv.channels.lookup(name); ok {
			ch.mu.Lock()
			delete(ch.subscribers, c)
			ch.mu.Unlock()
		}
	}
	return attached
}

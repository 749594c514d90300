package emulator

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/coder/websocket"
)

// minFrameSize is the smallest maxFrameSize the emulator reports, Ably's
// default of 512 KiB.
const minFrameSize = 512 * 1024

// maxFrameSize is the largest WebSocket message the emulator reads and the
// maxFrameSize it reports to clients.
func (s *Server) maxFrameSize() int {
	return max(minFrameSize, 2*s.cfg.MaxMessageSize)
}

// handleRealtime accepts a realtime connection at GET /. The query holds the
// parameters that ably-go and ably-js send: key or access_token, format
// (json or msgpack), v, heartbeats, echo, clientId, resume or recover, and
// agent (ignored).
func (s *Server) handleRealtime(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		s.writeError(w, r, errBadRequest(codeBadRequest,
			"GET / is the realtime endpoint and needs a WebSocket upgrade; see /healthz for a health check"))
		return
	}
	if s.isClosing() {
		s.writeError(w, r, newErrorInfo(http.StatusServiceUnavailable, codeInternal, "emulator is shutting down"))
		return
	}
	if remaining := s.pause.remaining(); remaining > 0 {
		s.refused.Add(1)
		s.writeError(w, r, newErrorInfo(http.StatusServiceUnavailable, codeDisconnected,
			"new connections are paused by the emulator for another %d ms", remaining.Milliseconds()))
		return
	}
	// Any origin is accepted, as Ably accepts browsers from any site; the
	// emulator is meant to listen on loopback only.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		s.log.Debug("websocket upgrade failed", "remote_addr", r.RemoteAddr, "error", err)
		return
	}
	ws.SetReadLimit(int64(s.maxFrameSize()))

	query := r.URL.Query()
	f := formatJSON
	if query.Get("format") == "msgpack" {
		f = formatMsgpack
	}
	c := s.newConnection(ws, f)
	c.echo = query.Get("echo") != "false"
	c.protocolHeartbeats = query.Get("heartbeats") == "true"

	if !s.register(c) {
		c.sendFinal(&ProtocolMessage{
			Action: actionDisconnected,
			Error:  newErrorInfo(http.StatusServiceUnavailable, codeDisconnected, "emulator is shutting down"),
		})
		c.run()
		return
	}
	defer s.unregister(c)

	p, errInfo := s.authenticateRealtime(query.Get("key"), query.Get("access_token"), query.Get("clientId"))
	if errInfo != nil {
		// Ably replies to a connection attempt with bad credentials with an
		// ERROR message and then closes. For a token error (40140-40149)
		// the client libraries renew the token and connect again.
		c.log.Debug("realtime connection rejected", "code", errInfo.Code, "reason", errInfo.Message)
		c.sendFinal(&ProtocolMessage{Action: actionError, Error: errInfo})
		c.run()
		return
	}
	// Resume before setPrincipal, which starts the token expiry timer,
	// because a resume changes the connection id that the timer logs.
	var resumeErr *ErrorInfo
	if key := query.Get("resume"); key != "" {
		resumeErr = s.resume(c, key, p, false)
	} else if key := query.Get("recover"); key != "" {
		resumeErr = s.resume(c, key, p, true)
	}
	c.setPrincipal(p)
	connected := c.connectedMessage()
	// A failed resume gets a new connection with error 80008, after which
	// the client attaches its channels again without continuity.
	connected.Error = resumeErr
	c.resumable.Store(true)
	c.send(connected)
	c.log.Debug("realtime connection opened",
		"key_name", p.keyName, "client_id", p.clientID, "format", f.String(),
		"protocol_heartbeats", c.protocolHeartbeats, "echo", c.echo,
		"resumed", query.Get("resume") != "" && resumeErr == nil)
	c.run()
	c.log.Debug("realtime connection closed")
}

// authenticateRealtime authenticates a connection and applies the clientId
// parameter: with a key it names the client; with a token it must match the
// token's client id unless the token is a wildcard.
func (s *Server) authenticateRealtime(key, accessToken, clientID string) (*principal, *ErrorInfo) {
	p, errInfo := s.authenticateQuery(key, accessToken)
	if errInfo != nil {
		return nil, errInfo
	}
	switch {
	case clientID == "":
	case p.method == authBasic || p.clientID == "*":
		p.clientID = clientID
	case p.clientID != clientID:
		return nil, errUnauthorized(codeIncompatibleClientID,
			"incompatible credentials: clientId %q does not match the token's client id %q", clientID, p.clientID)
	}
	return p, nil
}

// connectedMessage builds the CONNECTED message for the current credentials.
func (c *connection) connectedMessage() *ProtocolMessage {
	cfg := c.srv.cfg
	return &ProtocolMessage{
		Action:        actionConnected,
		ConnectionID:  c.id,
		ConnectionKey: c.key,
		ConnectionDetails: &ConnectionDetails{
			ClientID:       c.currentPrincipal().clientID,
			ConnectionKey:  c.key,
			MaxMessageSize: cfg.MaxMessageSize,
			// The emulator limits no connection; it reports the channel rate,
			// which bounds what one connection can publish on one channel.
			MaxInboundRate:     cfg.ChannelRate,
			MaxFrameSize:       c.srv.maxFrameSize(),
			ServerID:           c.srv.serverID,
			ConnectionStateTTL: cfg.ConnectionStateTTL.Milliseconds(),
			MaxIdleInterval:    cfg.HeartbeatInterval.Milliseconds(),
		},
	}
}

// isClosedConnError reports whether err only reports that the connection ended.
func isClosedConnError(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF)
}

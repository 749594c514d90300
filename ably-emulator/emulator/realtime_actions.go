package emulator

// handle dispatches one protocol message from the client. It runs on the
// reader goroutine, so messages of one connection are handled in order.
func (c *connection) handle(pm *ProtocolMessage) {
	switch pm.Action {
	case actionHeartbeat:
		// A client ping: reply with a HEARTBEAT carrying the same id.
		c.send(&ProtocolMessage{Action: actionHeartbeat, ID: pm.ID})
	case actionAttach:
		c.handleAttach(pm)
	case actionDetach:
		c.handleDetach(pm)
	case actionMessage:
		c.handlePublish(pm)
	case actionAuth:
		c.handleAuth(pm)
	case actionClose:
		c.sendFinal(&ProtocolMessage{Action: actionClosed})
	case actionDisconnect:
		c.sendFinal(nil)
	case actionPresence, actionObject:
		c.nack(pm, errBadRequest(codeBadRequest, "action %d (presence or objects) is not supported by the emulator", pm.Action))
	default:
		c.log.Debug("ignored protocol message", "action", pm.Action, "channel", pm.Channel)
	}
}

// handleDetach detaches the connection from a channel and replies DETACHED,
// also when it was not attached.
func (c *connection) handleDetach(pm *ProtocolMessage) {
	name := pm.Channel
	c.mu.Lock()
	delete(c.attached, name)
	delete(c.restored, name)
	c.mu.Unlock()
	if ch, ok := c.srv.channels.lookup(name); ok {
		ch.mu.Lock()
		delete(ch.subscribers, c)
		ch.mu.Unlock()
	}
	c.send(&ProtocolMessage{Action: actionDetached, Channel: name})
}

// handlePublish publishes the messages of a MESSAGE and replies ACK with the
// serials, or NACK with the error, for its msgSerial.
func (c *connection) handlePublish(pm *ProtocolMessage) {
	if pm.Channel == "" || len(pm.Messages) == 0 {
		c.nack(pm, errBadRequest(codeInvalidRequestBody, "invalid MESSAGE: it needs a channel and at least one message"))
		return
	}
	for _, m := range pm.Messages {
		if m == nil {
			c.nack(pm, errBadRequest(codeInvalidRequestBody, "invalid MESSAGE: a message is null"))
			return
		}
		if errInfo := m.normalize(); errInfo != nil {
			c.srv.channels.get(pm.Channel).countRejected(rejectInvalid, len(pm.Messages))
			c.nack(pm, errInfo)
			return
		}
	}
	result, errInfo := c.srv.publish(publishInput{
		channel:   pm.Channel,
		messages:  pm.Messages,
		principal: c.currentPrincipal(),
		origin:    c,
	})
	if errInfo != nil {
		c.nack(pm, errInfo)
		return
	}
	c.send(&ProtocolMessage{
		Action:    actionAck,
		MsgSerial: int64Ptr(msgSerialOf(pm)),
		Count:     1,
		Res:       []PublishResult{{Serials: result.serials}},
	})
}

func (c *connection) nack(pm *ProtocolMessage, errInfo *ErrorInfo) {
	c.send(&ProtocolMessage{
		Action:    actionNack,
		MsgSerial: int64Ptr(msgSerialOf(pm)),
		Count:     1,
		Error:     errInfo,
	})
}

func msgSerialOf(pm *ProtocolMessage) int64 {
	if pm.MsgSerial == nil {
		return 0
	}
	return *pm.MsgSerial
}

// handleAuth renews the credentials of the connection in place (RTN22):
// a valid token for the same client id keeps the connection, and the reply
// is CONNECTED. Anything else ends the connection with ERROR.
func (c *connection) handleAuth(pm *ProtocolMessage) {
	if pm.Auth == nil || pm.Auth.AccessToken == "" {
		c.sendFinal(&ProtocolMessage{
			Action: actionError,
			Error:  errUnauthorized(codeInvalidCredentials, "AUTH without an accessToken"),
		})
		return
	}
	p, errInfo := c.srv.authenticateToken(pm.Auth.AccessToken)
	if errInfo != nil {
		c.sendFinal(&ProtocolMessage{Action: actionError, Error: errInfo})
		return
	}
	current := c.currentPrincipal()
	if current.clientID != "" && current.clientID != "*" && p.clientID != current.clientID {
		c.sendFinal(&ProtocolMessage{
			Action: actionError,
			Error: errUnauthorized(codeIncompatibleClientID,
				"incompatible credentials: the new token's client id %q differs from the connection's %q", p.clientID, current.clientID),
		})
		return
	}
	c.setPrincipal(p)
	c.send(c.connectedMessage())
}

package emulator

import "net/http"

// codeReplayLimitExceeded is Ably's channel_backlog_too_large: a resume or
// rewind asked for more messages than one replay delivers, so only the most
// recent ones are sent.
const codeReplayLimitExceeded = 90004

// attachResult is the reply to an ATTACH beyond the modes: extra ATTACHED
// flags, an optional error, and the messages sent after the ATTACHED.
type attachResult struct {
	flags  int64
	err    *ErrorInfo
	replay []historyEntry
}

// handleAttach attaches the connection to a channel. The attachment gets the
// modes the client requested (all modes if it requested none), limited to
// what its capability grants. Only an attachment with the subscribe mode
// receives messages. Without any capability on the channel the reply is a
// channel ERROR with 40160, which fails the channel as at Ably.
//
// The ATTACHED has the RESUMED flag when the client keeps message continuity
// (see continueAttachment). Otherwise a rewind param delivers recent
// messages. Messages sent after the ATTACHED are queued before any message
// published later, because the channel lock is held while they are queued.
func (c *connection) handleAttach(pm *ProtocolMessage) {
	name := pm.Channel
	if name == "" {
		c.log.Debug("ignored ATTACH without a channel name")
		return
	}
	p := c.currentPrincipal()
	if !p.capability.allowsAny(name) {
		c.sendChannelError(name, errUnauthorized(codeCapabilityDenied,
			"operation not permitted with provided capability: attach to channel %q", name))
		return
	}
	rewindRequest, errInfo := parseRewind(pm.Params[rewindParam])
	if errInfo != nil {
		c.sendChannelError(name, errInfo)
		return
	}
	granted := p.capability.modeFlags(name)
	modes := granted
	if requested := pm.Flags & modeFlagsMask; requested != 0 {
		modes = requested & granted
	}

	ch := c.srv.channels.get(name)
	ch.mu.Lock()
	defer ch.mu.Unlock()

	c.mu.Lock()
	live, isLive := c.attached[name]
	restored, isRestored := c.restored[name]
	delete(c.restored, name)
	since := ch.lastPos
	if isLive {
		since = live.since
	}
	c.attached[name] = attachment{modes: modes, since: since}
	c.mu.Unlock()

	var result attachResult
	resumed := false
	switch {
	case isLive:
		// A second ATTACH on the same transport: everything published
		// since the first was queued on this connection in order.
		resumed = true
	case isRestored:
		result, resumed = c.continueAttachment(ch, restored, pm.ChannelSerial)
	}
	if !resumed && rewindRequest != nil {
		entries, truncated := rewindRequest.selectFrom(ch.history, c.srv.cfg.Now(), c.srv.cfg.ReplayLimit)
		result.replay = entries
		if truncated {
			result.err = replayLimitError(c.srv.cfg.ReplayLimit)
		}
		if len(entries) > 0 {
			result.flags |= flagHasBacklog
		}
	}
	if resumed {
		result.flags |= flagResumed
	}

	if modes&flagSubscribe != 0 {
		ch.subscribers[c] = struct{}{}
	} else {
		delete(ch.subscribers, c)
		result.replay = nil
	}
	attached := &ProtocolMessage{
		Action:        actionAttached,
		Channel:       name,
		ChannelSerial: ch.lastSerial,
		Flags:         modes | result.flags,
		Error:         result.err,
	}
	if rewindRequest != nil {
		// ably-js stores the params of ATTACHED as the ones in force.
		attached.Params = map[string]string{rewindParam: rewindRequest.raw}
	}
	c.send(attached)
	for _, entry := range result.replay {
		c.send(&ProtocolMessage{
			Action:        actionMessage,
			Channel:       name,
			ChannelSerial: entry.message.Serial,
			Timestamp:     entry.message.Timestamp,
			Messages:      []*Message{entry.message},
		})
	}
}

// continueAttachment decides whether an attachment carried over by a
// resume keeps continuity. The client's channelSerial names the last
// message it received; without one it received nothing since it attached.
// When every message after that point is still in the history, continuity
// holds and they are replayed, at most Config.ReplayLimit of them: with more,
// the most recent are replayed with error 90004 and without continuity, as
// Ably does. A serial that the emulator did not issue, or a gap in the
// history, loses continuity.
//
// NOTE: only a resumed connection keeps continuity here. Ably keeps
// channelSerial through a suspended channel so that the server may restore
// continuity on a new connection too; the emulator never does.
func (c *connection) continueAttachment(ch *channel, restored attachment, channelSerial string) (attachResult, bool) {
	from := restored.since
	if channelSerial != "" {
		pos, ok := parseSerial(channelSerial, c.srv.serverID)
		if !ok {
			return attachResult{}, false
		}
		from = pos
	}
	missed, complete := ch.history.after(from)
	if !complete {
		return attachResult{}, false
	}
	limit := c.srv.cfg.ReplayLimit
	if len(missed) > limit {
		return attachResult{err: replayLimitError(limit), replay: missed[len(missed)-limit:]}, false
	}
	return attachResult{replay: missed}, true
}

func replayLimitError(limit int) *ErrorInfo {
	return newErrorInfo(http.StatusNotFound, codeReplayLimitExceeded,
		"unable to recover channel (message limit exceeded): only the last %d messages are replayed", limit)
}

// sendChannelError sends a channel ERROR, which fails the channel.
func (c *connection) sendChannelError(name string, errInfo *ErrorInfo) {
	c.send(&ProtocolMessage{Action: actionError, Channel: name, Error: errInfo})
}

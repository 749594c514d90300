package emulator

import (
	"net/http"
	"strconv"
	"time"
)

// publishInput is one publish, from REST or from a realtime connection.
type publishInput struct {
	channel   string
	messages  []*Message
	principal *principal
	// origin is the publishing realtime connection, nil for REST. Its id is
	// set on the messages, and its echo setting decides whether it receives
	// them back.
	origin *connection
}

// publishResult is the outcome of an accepted publish.
type publishResult struct {
	// messageID is the prefix of the ids the emulator assigned, "" when
	// every message was a duplicate.
	messageID string
	// serials has one serial per input message, nil for a duplicate.
	serials []*string
}

// publish runs a publish through the fault queue, the capability and client
// id checks, the message id rule, the size limit, idempotency and the rate
// limit, in that order, then records the new messages and sends them to the
// subscribers.
//
// A rejected publish is rejected whole and changes nothing but the counters.
// Duplicates do not count against the rate limit, so a retry of an accepted
// batch succeeds even when the channel is at its limit.
func (s *Server) publish(in publishInput) (publishResult, *ErrorInfo) {
	ch := s.channels.get(in.channel)
	n := len(in.messages)

	if fault, ok := s.faults.take(in.channel, in.messages); ok {
		if fault.DelayMs > 0 {
			s.waitFaultDelay(time.Duration(fault.DelayMs) * time.Millisecond)
		}
		if fault.Status != 0 {
			ch.countRejected(rejectInjected, n)
			return publishResult{}, fault.errorInfo()
		}
	}

	if !in.principal.capability.allows(in.channel, opPublish) {
		ch.countRejected(rejectUnauthorized, n)
		return publishResult{}, errUnauthorized(codeCapabilityDenied,
			"operation not permitted with provided capability: publish on channel %q", in.channel)
	}
	for _, m := range in.messages {
		clientID, errInfo := in.principal.messageClientID(m.ClientID)
		if errInfo != nil {
			ch.countRejected(rejectUnauthorized, n)
			return publishResult{}, errInfo
		}
		m.ClientID = clientID
	}
	if errInfo := checkMessageIDs(in.messages); errInfo != nil {
		ch.countRejected(rejectInvalidID, n)
		return publishResult{}, errInfo
	}

	size := 0
	for _, m := range in.messages {
		size += m.size()
	}
	if size > s.cfg.MaxMessageSize {
		ch.countRejected(rejectTooLarge, n)
		return publishResult{}, newErrorInfo(http.StatusRequestEntityTooLarge, codeMessageTooLarge,
			"maximum message length exceeded: %d messages total %d bytes, over the limit of %d bytes (data, name, clientId and extras count)",
			n, size, s.cfg.MaxMessageSize)
	}

	return s.admit(ch, in)
}

// admit applies idempotency and the rate limit under the channel lock, then
// records and fans out the new messages.
func (s *Server) admit(ch *channel, in publishInput) (publishResult, *ErrorInfo) {
	now := s.cfg.Now()
	ch.mu.Lock()
	defer ch.mu.Unlock()

	serials := make([]*string, len(in.messages))
	fresh := make([]int, 0, len(in.messages))
	// checkMessageIDs has run, so no id occurs twice in one publish: the
	// ids are <base>:0 to <base>:n-1, or a publish has one message.
	for i, m := range in.messages {
		if m.ID != "" && ch.seen.contains(m.ID, now) {
			continue
		}
		fresh = append(fresh, i)
	}
	duplicates := len(in.messages) - len(fresh)

	if !ch.window.admit(now, len(fresh)) {
		ch.countRejectedLocked(rejectRateLimit, len(in.messages))
		return publishResult{}, newErrorInfo(http.StatusTooManyRequests, codeChannelRateExceeded,
			"rate limit exceeded; request rejected (nonfatal); metric = channel.maxRate; permitted rate = %d; current rate = %d; scope = channel:%s",
			s.cfg.ChannelRate, ch.window.inWindow(now)+len(fresh), ch.name)
	}

	ch.stats.Duplicates += int64(duplicates)
	if len(fresh) == 0 {
		return publishResult{serials: serials}, nil
	}
	ch.sequence++
	base := randomAlphanumeric(12)
	delivered := make([]*Message, 0, len(fresh))
	for index, i := range fresh {
		m := in.messages[i]
		if m.ID == "" {
			m.ID = base + ":" + strconv.Itoa(index)
		}
		ch.seen.add(m.ID, now)
		pos := position{sequence: ch.sequence, index: index}
		m.Timestamp = now.UnixMilli()
		m.Serial = formatSerial(m.Timestamp, s.serverID, pos)
		m.ConnectionKey = ""
		if in.origin != nil {
			m.ConnectionID = in.origin.id
		}
		// The message is not changed after this point, so the serials,
		// the records and the history share it.
		serials[i] = &m.Serial
		ch.records.add(m, now)
		ch.history.add(m, pos)
		ch.lastPos = pos
		delivered = append(delivered, m)
	}
	ch.lastSerial = delivered[len(delivered)-1].Serial
	ch.stats.Accepted += int64(len(delivered))

	s.fanOutLocked(ch, &ProtocolMessage{
		Action:        actionMessage,
		ID:            base,
		Channel:       ch.name,
		ChannelSerial: ch.lastSerial,
		Timestamp:     now.UnixMilli(),
		Messages:      delivered,
	}, in.origin)
	return publishResult{messageID: base, serials: serials}, nil
}

// fanOutLocked queues a MESSAGE for every subscriber of the channel. It never
// blocks: a subscriber whose queue is full is closed as a slow consumer.
func (s *Server) fanOutLocked(ch *channel, pm *ProtocolMessage, origin *connection) {
	frames := newFrameCache(pm)
	for conn := range ch.subscribers {
		if conn == origin && !conn.echo {
			continue
		}
		frame, err := frames.get(conn.format)
		if err != nil {
			s.logLimiter.warn(s.log, "encode message", "failed to encode message for subscriber",
				"channel", ch.name, "format", conn.format.String(), "error", err)
			continue
		}
		conn.enqueue(frame)
	}
}

// waitFaultDelay waits for an injected delay, or until the server closes.
func (s *Server) waitFaultDelay(delay time.Duration) {
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-s.closing:
	}
}

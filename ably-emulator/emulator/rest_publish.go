package emulator

import (
	"errors"
	"io"
	"net/http"
)

// publishResponse is the body of a successful REST publish: the channel, the
// id prefix of the published messages and one serial per message (null for
// a duplicate). ably-go v1.4.1 reads only serials, and only in
// PublishWithResult.
type publishResponse struct {
	Channel   string    `json:"channel" msgpack:"channel"`
	MessageID string    `json:"messageId,omitempty" msgpack:"messageId,omitempty"`
	Serials   []*string `json:"serials" msgpack:"serials"`
}

// handlePublish serves POST /channels/{channel}/messages with a JSON or
// MessagePack body holding one message or an array of messages.
func (s *Server) handlePublish(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("channel")
	ch := s.channels.get(name)

	p, errInfo := s.authenticateHTTP(r)
	if errInfo != nil {
		ch.countRejected(rejectUnauthorized, 1)
		s.log.Debug("rest publish rejected", "channel", name, "code", errInfo.Code, "reason", errInfo.Message)
		s.writeError(w, r, errInfo)
		return
	}
	f, errInfo := requestFormat(r)
	if errInfo != nil {
		ch.countRejected(rejectInvalid, 1)
		s.writeError(w, r, errInfo)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(s.maxFrameSize())))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			ch.countRejected(rejectTooLarge, 1)
			s.writeError(w, r, newErrorInfo(http.StatusRequestEntityTooLarge, codeMessageTooLarge,
				"maximum message length exceeded: the request body is over %d bytes", tooLarge.Limit))
			return
		}
		s.writeError(w, r, errBadRequest(codeInvalidRequestBody, "invalid request body: %v", err))
		return
	}
	messages, errInfo := decodeMessages(f, body)
	if errInfo != nil {
		ch.countRejected(rejectInvalid, 1)
		s.writeError(w, r, errInfo)
		return
	}

	result, errInfo := s.publish(publishInput{channel: name, messages: messages, principal: p})
	if errInfo != nil {
		s.log.Debug("rest publish rejected", "channel", name, "messages", len(messages),
			"code", errInfo.Code, "reason", errInfo.Message)
		s.writeError(w, r, errInfo)
		return
	}
	s.writeBody(w, r, http.StatusCreated, publishResponse{
		Channel:   name,
		MessageID: result.messageID,
		Serials:   result.serials,
	})
}

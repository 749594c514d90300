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
	limit := int64(s.maxFrameSize())
	body, err := readAllSized(http.MaxBytesReader(w, r.Body, limit), min(r.ContentLength, limit))
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

// readAllSized reads r to the end like io.ReadAll, starting with room for
// sizeHint bytes (the request's Content-Length, or -1 when unknown) so that
// a publish body is read without growing the buffer.
func readAllSized(r io.Reader, sizeHint int64) ([]byte, error) {
	// One byte more than the hint lets the final Read see io.EOF without
	// growing the buffer.
	buf := make([]byte, 0, max(sizeHint+1, 512))
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

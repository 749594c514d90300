package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// maxFaultBody bounds the body of POST /_emulator/faults.
const maxFaultBody = 64 * 1024

// handleStats serves GET /_emulator/stats.
func (s *Server) handleStats(w http.ResponseWriter, _ *http.Request) {
	s.writeJSON(w, http.StatusOK, s.Stats())
}

// handleChannelMessages serves GET /_emulator/channels/{channel}/messages:
// the accepted messages of the channel in arrival order, [] for a channel
// with none.
func (s *Server) handleChannelMessages(w http.ResponseWriter, r *http.Request) {
	messages := s.Messages(r.PathValue("channel"))
	if messages == nil {
		messages = []RecordedMessage{}
	}
	s.writeJSON(w, http.StatusOK, messages)
}

// handleListFaults serves GET /_emulator/faults.
func (s *Server) handleListFaults(w http.ResponseWriter, _ *http.Request) {
	s.writeJSON(w, http.StatusOK, s.Faults())
}

// handleAddFault serves POST /_emulator/faults with a Fault as JSON body.
func (s *Server) handleAddFault(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFaultBody))
	if err != nil {
		s.writeError(w, r, errBadRequest(codeInvalidRequestBody, "invalid fault body: %v", err))
		return
	}
	var fault Fault
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&fault); err != nil {
		s.writeError(w, r, errBadRequest(codeInvalidRequestBody,
			`invalid fault body: %v; expected {"channel","status","code","message","count","delayMs"}`, err))
		return
	}
	if err := s.AddFault(fault); err != nil {
		s.writeError(w, r, errBadRequest(codeInvalidParameterValue, "%v", err))
		return
	}
	s.writeJSON(w, http.StatusCreated, s.Faults())
}

// handleClearFaults serves DELETE /_emulator/faults.
func (s *Server) handleClearFaults(w http.ResponseWriter, _ *http.Request) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

// pauseRequest is the body of POST /_emulator/pause.
type pauseRequest struct {
	DurationMs int64 `json:"durationMs"`
}

// handlePause serves POST /_emulator/pause.
func (s *Server) handlePause(w http.ResponseWriter, r *http.Request) {
	var request pauseRequest
	if errInfo := decodeTestBody(w, r, &request); errInfo != nil {
		s.writeError(w, r, errInfo)
		return
	}
	if err := s.PauseConnections(time.Duration(request.DurationMs) * time.Millisecond); err != nil {
		s.writeError(w, r, errBadRequest(codeInvalidParameterValue, "%v; send {\"durationMs\": N}", err))
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]int64{"pausedMs": request.DurationMs})
}

// handleEndPause serves DELETE /_emulator/pause.
func (s *Server) handleEndPause(w http.ResponseWriter, _ *http.Request) {
	s.EndPause()
	w.WriteHeader(http.StatusNoContent)
}

// handleDrop serves POST /_emulator/drop.
func (s *Server) handleDrop(w http.ResponseWriter, _ *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]int{"dropped": s.DropAll()})
}

// decodeTestBody decodes the JSON body of a test endpoint into v, rejecting
// unknown fields.
func decodeTestBody(w http.ResponseWriter, r *http.Request, v any) *ErrorInfo {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFaultBody))
	if err != nil {
		return errBadRequest(codeInvalidRequestBody, "invalid body: %v", err)
	}
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(v); err != nil {
		return errBadRequest(codeInvalidRequestBody, "invalid JSON body: %v", err)
	}
	return nil
}

// handleDisconnect serves POST /_emulator/disconnect.
func (s *Server) handleDisconnect(w http.ResponseWriter, _ *http.Request) {
	count := s.DisconnectAll()
	s.writeJSON(w, http.StatusOK, map[string]int{"disconnected": count})
}

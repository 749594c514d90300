package emulator

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// writeBody writes v with the given status in the format the client accepts.
func (s *Server) writeBody(w http.ResponseWriter, r *http.Request, status int, v any) {
	f := responseFormat(r)
	body, err := marshal(f, v)
	if err != nil {
		s.log.Error("failed to encode response", "path", r.URL.Path, "format", f.String(), "error", err)
		http.Error(w, "failed to encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", f.contentType())
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError writes an Ably error: the body {"error": {...}} in the format
// the client accepts, and the X-Ably-Errorcode and X-Ably-Errormessage
// headers that ably-js checks to recognize an Ably error.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *ErrorInfo) {
	w.Header().Set("X-Ably-Errorcode", strconv.Itoa(e.Code))
	w.Header().Set("X-Ably-Errormessage", headerSafe(e.Message))
	s.writeBody(w, r, e.StatusCode, map[string]*ErrorInfo{"error": e})
}

// writeJSON writes v as JSON, for the /_emulator/ endpoints and /healthz.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.log.Error("failed to encode JSON response", "error", err)
		http.Error(w, "failed to encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// headerSafe replaces the characters that may not appear in a header value.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r > 0x7e {
			return ' '
		}
		return r
	}, s)
}

package emulator

import "net/http"

// routes builds the handler of every endpoint.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// Ably REST API and realtime endpoint.
	mux.HandleFunc("GET /{$}", s.handleRealtime)
	mux.HandleFunc("GET /time", s.handleTime)
	mux.HandleFunc("POST /channels/{channel}/messages", s.handlePublish)
	// ably-js reads history from /messages and ably-go from /history.
	mux.HandleFunc("GET /channels/{channel}/messages", s.handleHistory)
	mux.HandleFunc("GET /channels/{channel}/history", s.handleHistory)
	mux.HandleFunc("POST /keys/{keyName}/requestToken", s.handleRequestToken)

	// Health and test endpoints; they need no credentials.
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /_emulator/stats", s.handleStats)
	mux.HandleFunc("GET /_emulator/channels/{channel}/messages", s.handleChannelMessages)
	mux.HandleFunc("GET /_emulator/faults", s.handleListFaults)
	mux.HandleFunc("POST /_emulator/faults", s.handleAddFault)
	mux.HandleFunc("DELETE /_emulator/faults", s.handleClearFaults)
	mux.HandleFunc("POST /_emulator/disconnect", s.handleDisconnect)
	mux.HandleFunc("POST /_emulator/drop", s.handleDrop)
	mux.HandleFunc("POST /_emulator/pause", s.handlePause)
	mux.HandleFunc("DELETE /_emulator/pause", s.handleEndPause)

	mux.HandleFunc("/", s.handleNotFound)
	return withCORS(mux)
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, newErrorInfo(http.StatusNotFound, codeNotFound,
		"not found: the emulator serves no %s %s", r.Method, r.URL.Path))
}

func (s *Server) handleTime(w http.ResponseWriter, r *http.Request) {
	s.writeBody(w, r, http.StatusOK, []int64{s.cfg.Now().UnixMilli()})
}

func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	status := http.StatusOK
	state := "ok"
	if s.isClosing() {
		status = http.StatusServiceUnavailable
		state = "closing"
	}
	s.writeJSON(w, status, map[string]string{"status": state})
}

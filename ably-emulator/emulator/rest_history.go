package emulator

import (
	"net/http"
	"net/url"
	"strconv"
)

// History page sizes, as Ably documents them for the history API.
const (
	defaultHistoryLimit = 100
	maxHistoryLimit     = 1000
)

// cursorParam carries the serial of the last message of a page in the link
// to the next page. Clients send it back unchanged.
const cursorParam = "cursor"

// handleHistory serves GET /channels/{channel}/messages and its older path
// GET /channels/{channel}/history: the channel's kept messages, newest first
// unless direction=forwards, in the wire format of the request.
//
// Query parameters: limit (1 to 1000, default 100), direction (backwards or
// forwards), start and end (milliseconds since the Unix epoch, inclusive),
// and from_serial, which ably-js sends for history({untilAttach: true}) to
// leave out messages after the attach. Pages link to each other with Link
// headers, one per relation (first, current and, when more messages match,
// next), each a URL relative to the channel such as
// <./messages?limit=100&...>; rel="next". ably-go reads one relation per
// header line, and ably-js accepts only that relative form.
func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("channel")
	p, errInfo := s.authenticateHTTP(r)
	if errInfo != nil {
		s.writeError(w, r, errInfo)
		return
	}
	if !p.capability.allows(name, opHistory) {
		s.writeError(w, r, errUnauthorized(codeCapabilityDenied,
			"operation not permitted with provided capability: history on channel %q", name))
		return
	}
	params := r.URL.Query()
	q, errInfo := s.parseHistoryQuery(params)
	if errInfo != nil {
		s.writeError(w, r, errInfo)
		return
	}

	var entries []historyEntry
	more := false
	if ch, ok := s.channels.lookup(name); ok {
		ch.mu.Lock()
		entries, more = ch.history.query(q)
		ch.mu.Unlock()
	}
	messages := make([]*Message, len(entries))
	for i, entry := range entries {
		messages[i] = entry.message
	}
	if responseFormat(r) == formatJSON {
		for i, m := range messages {
			messages[i] = m.forFormat(formatJSON)
		}
	}

	first := url.Values{}
	for key, values := range params {
		if key != cursorParam {
			first[key] = values
		}
	}
	w.Header().Add("Link", historyLink(first, "first"))
	w.Header().Add("Link", historyLink(params, "current"))
	if more {
		next := url.Values{}
		for key, values := range first {
			next[key] = values
		}
		next.Set(cursorParam, entries[len(entries)-1].message.Serial)
		w.Header().Add("Link", historyLink(next, "next"))
	}
	s.writeBody(w, r, http.StatusOK, messages)
}

// historyLink formats one Link header value. url.Values.Encode escapes
// commas, which ably-js splits links on, and slashes, which ably-go's path
// joining would change.
func historyLink(params url.Values, rel string) string {
	return `<./messages?` + params.Encode() + `>; rel="` + rel + `"`
}

// parseHistoryQuery checks the history parameters. An error names the
// parameter and the accepted values.
func (s *Server) parseHistoryQuery(params url.Values) (historyQuery, *ErrorInfo) {
	q := historyQuery{limit: defaultHistoryLimit}
	invalid := func(name, want string) (historyQuery, *ErrorInfo) {
		return historyQuery{}, errBadRequest(codeInvalidParameterValue,
			"invalid %s %q: want %s", name, params.Get(name), want)
	}
	if raw := params.Get("limit"); raw != "" {
		limit, err := strconv.Atoi(raw)
		if err != nil || limit < 1 || limit > maxHistoryLimit {
			return invalid("limit", "an integer from 1 to 1000")
		}
		q.limit = limit
	}
	switch params.Get("direction") {
	case "", "backwards":
	case "forwards":
		q.forwards = true
	default:
		return invalid("direction", "backwards or forwards")
	}
	for _, bound := range []struct {
		name   string
		target *int64
	}{{"start", &q.start}, {"end", &q.end}} {
		raw := params.Get(bound.name)
		if raw == "" {
			continue
		}
		value, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || value < 0 {
			return invalid(bound.name, "milliseconds since the Unix epoch")
		}
		*bound.target = value
	}
	if q.end != 0 && q.start > q.end {
		return invalid("start", "a time no later than end")
	}
	for _, serialParam := range []struct {
		name   string
		target **position
	}{{"from_serial", &q.until}, {cursorParam, &q.cursor}} {
		raw := params.Get(serialParam.name)
		if raw == "" {
			continue
		}
		pos, ok := parseSerial(raw, s.serverID)
		if !ok {
			return invalid(serialParam.name, "a message serial that this emulator issued")
		}
		*serialParam.target = &pos
	}
	return q, nil
}

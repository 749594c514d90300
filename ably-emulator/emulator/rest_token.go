package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"
)

const (
	// defaultTokenTTL is the lifetime of a token whose request names none,
	// as at Ably.
	defaultTokenTTL = time.Hour
	// minNonceLength is the shortest nonce a signed token request may have.
	minNonceLength = 16
	// maxTokenRequestBody bounds the body of a token request.
	maxTokenRequestBody = 64 * 1024
)

// tokenRequest is the body of POST /keys/{keyName}/requestToken: a signed
// token request (with mac and nonce) or, with Basic auth, token params.
// ttl and timestamp may arrive as a JSON number, a MessagePack integer of
// any width or a decimal string, so they are decoded loosely.
type tokenRequest struct {
	KeyName    string `json:"keyName" msgpack:"keyName"`
	TTL        any    `json:"ttl" msgpack:"ttl"`
	Capability any    `json:"capability" msgpack:"capability"`
	ClientID   string `json:"clientId" msgpack:"clientId"`
	Timestamp  any    `json:"timestamp" msgpack:"timestamp"`
	Nonce      string `json:"nonce" msgpack:"nonce"`
	MAC        string `json:"mac" msgpack:"mac"`
}

// TokenDetails is the response to a token request (TD1-TD7). Times are in
// milliseconds since the Unix epoch.
type TokenDetails struct {
	Token      string `json:"token" msgpack:"token"`
	KeyName    string `json:"keyName" msgpack:"keyName"`
	Issued     int64  `json:"issued" msgpack:"issued"`
	Expires    int64  `json:"expires" msgpack:"expires"`
	Capability string `json:"capability" msgpack:"capability"`
	ClientID   string `json:"clientId,omitempty" msgpack:"clientId,omitempty"`
}

// handleRequestToken serves POST /keys/{keyName}/requestToken.
func (s *Server) handleRequestToken(w http.ResponseWriter, r *http.Request) {
	keyName := r.PathValue("keyName")
	details, errInfo := s.requestToken(r, keyName)
	if errInfo != nil {
		s.log.Debug("token request rejected", "key_name", keyName, "code", errInfo.Code, "reason", errInfo.Message)
		s.writeError(w, r, errInfo)
		return
	}
	s.log.Debug("token issued", "key_name", keyName, "client_id", details.ClientID,
		"capability", details.Capability, "expires", time.UnixMilli(details.Expires).UTC())
	s.writeBody(w, r, http.StatusOK, details)
}

func (s *Server) requestToken(r *http.Request, keyName string) (*TokenDetails, *ErrorInfo) {
	key, ok := s.keys[keyName]
	if !ok {
		return nil, newErrorInfo(http.StatusNotFound, codeNotFound, "key %q not found", keyName)
	}
	f, errInfo := requestFormat(r)
	if errInfo != nil {
		return nil, errInfo
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxTokenRequestBody))
	if err != nil {
		return nil, errBadRequest(codeInvalidRequestBody, "invalid token request body: %v", err)
	}
	var req tokenRequest
	if len(body) > 0 {
		if err := unmarshal(f, body, &req); err != nil {
			return nil, errBadRequest(codeInvalidRequestBody, "invalid token request body: %v", err)
		}
	}

	now := s.cfg.Now()
	if req.MAC != "" {
		if errInfo := s.verifySignedRequest(&req, key, now); errInfo != nil {
			return nil, errInfo
		}
	} else {
		if r.Header.Get("Authorization") == "" {
			return nil, errUnauthorized(codeInvalidCredentials,
				"token request has no mac: sign it with the key secret, or send it with Basic auth")
		}
		p, errInfo := s.authenticateHTTP(r)
		if errInfo != nil {
			return nil, errInfo
		}
		if p.method != authBasic || p.keyName != keyName {
			return nil, errUnauthorized(codeInvalidCredentials,
				"an unsigned token request needs Basic auth with key %q", keyName)
		}
	}
	return s.issueToken(&req, key, now)
}

// verifySignedRequest checks a signed token request: key name, MAC,
// timestamp and nonce.
func (s *Server) verifySignedRequest(req *tokenRequest, key APIKey, now time.Time) *ErrorInfo {
	if req.KeyName != key.Name() {
		return errUnauthorized(codeInvalidCredentials,
			"token request keyName %q does not match the key %q in the path", req.KeyName, key.Name())
	}
	timestamp, timestampText, present, err := looseInteger(req.Timestamp)
	if err != nil || !present {
		return errBadRequest(codeInvalidParameterValue, "invalid token request: timestamp is missing or not an integer")
	}
	_, ttlText, ttlPresent, err := looseInteger(req.TTL)
	if err != nil {
		return errBadRequest(codeInvalidParameterValue, "invalid token request: ttl is not an integer")
	}
	capabilityText, ok := req.Capability.(string)
	if req.Capability != nil && !ok {
		return errBadRequest(codeInvalidParameterValue, "invalid token request: capability must be a JSON string")
	}
	if len(req.Nonce) < minNonceLength {
		return errBadRequest(codeInvalidParameterValue,
			"invalid token request: nonce must have at least %d characters", minNonceLength)
	}

	// The signed text is keyName, ttl, capability, clientId, timestamp and
	// nonce, each followed by a newline, with absent fields empty. ably-go
	// signs an absent ttl as "0", so both forms are accepted.
	candidates := []string{ttlText}
	if !ttlPresent {
		candidates = append(candidates, "0")
	}
	valid := false
	for _, ttlCandidate := range candidates {
		signed := req.KeyName + "\n" + ttlCandidate + "\n" + capabilityText + "\n" + req.ClientID + "\n" +
			timestampText + "\n" + req.Nonce + "\n"
		if macMatches(req.MAC, signed, key.Secret) {
			valid = true
			break
		}
	}
	if !valid {
		return errUnauthorized(codeInvalidCredentials, "invalid token request: the mac does not match (wrong key secret or altered fields)")
	}

	requestTime := time.UnixMilli(timestamp)
	skew := now.Sub(requestTime)
	if skew.Abs() > s.cfg.TokenRequestMaxSkew {
		return errUnauthorized(codeTimestampNotCurrent,
			"timestamp not current: the token request timestamp is %s from the emulator clock, more than %s",
			skew.Round(time.Millisecond), s.cfg.TokenRequestMaxSkew)
	}
	forgetAfter := requestTime.Add(s.cfg.TokenRequestMaxSkew + time.Minute)
	if !s.tokens.useNonce(req.KeyName, req.Nonce, forgetAfter, now) {
		return errUnauthorized(codeNonceReplayed, "nonce value replayed: this token request was already used")
	}
	return nil
}

// issueToken creates and stores a token for the request's params.
func (s *Server) issueToken(req *tokenRequest, key APIKey, now time.Time) (*TokenDetails, *ErrorInfo) {
	ttlMillis, _, ttlPresent, err := looseInteger(req.TTL)
	if err != nil {
		return nil, errBadRequest(codeInvalidParameterValue, "invalid token request: ttl is not an integer")
	}
	ttl := defaultTokenTTL
	if ttlPresent {
		ttl = time.Duration(ttlMillis) * time.Millisecond
	}
	if ttl <= 0 || ttl > s.cfg.MaxTokenTTL {
		return nil, errBadRequest(codeInvalidParameterValue,
			"invalid token request: ttl %dms is outside 1ms..%dms", ttlMillis, s.cfg.MaxTokenTTL.Milliseconds())
	}
	capabilityText, _ := req.Capability.(string)
	if capabilityText == "" {
		capabilityText = allCapability
	}
	parsedCapability, err := parseCapability(capabilityText)
	if err != nil {
		return nil, errBadRequest(codeInvalidParameterValue, "invalid token request: %v", err)
	}

	token := key.AppID + "." + randomToken(24)
	expires := now.Add(ttl)
	s.tokens.add(token, &issuedToken{
		keyName:        key.Name(),
		clientID:       req.ClientID,
		capabilityJSON: capabilityText,
		capability:     parsedCapability,
		issued:         now,
		expires:        expires,
	}, now)
	return &TokenDetails{
		Token:      token,
		KeyName:    key.Name(),
		Issued:     now.UnixMilli(),
		Expires:    expires.UnixMilli(),
		Capability: capabilityText,
		ClientID:   req.ClientID,
	}, nil
}

// macMatches reports whether mac is the base64 HMAC-SHA256 of signed under
// secret, comparing in constant time.
func macMatches(mac, signed, secret string) bool {
	got, err := base64.StdEncoding.DecodeString(mac)
	if err != nil {
		return false
	}
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(signed))
	return hmac.Equal(got, h.Sum(nil))
}

var errNotInteger = errors.New("not an integer")

// looseInteger reads an integer that may be encoded as any JSON or
// MessagePack number or as a decimal string. It returns the value, its
// decimal text, and whether it was present at all.
func looseInteger(v any) (value int64, text string, present bool, err error) {
	switch n := v.(type) {
	case nil:
		return 0, "", false, nil
	case string:
		if n == "" {
			return 0, "", false, nil
		}
		parsed, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return 0, "", true, errNotInteger
		}
		return parsed, n, true, nil
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, "", true, errNotInteger
		}
		value = int64(n)
	case float32:
		return looseInteger(float64(n))
	case int:
		value = int64(n)
	case int8:
		value = int64(n)
	case int16:
		value = int64(n)
	case int32:
		value = int64(n)
	case int64:
		value = n
	case uint8:
		value = int64(n)
	case uint16:
		value = int64(n)
	case uint32:
		value = int64(n)
	case uint64:
		if n > math.MaxInt64 {
			return 0, "", true, errNotInteger
		}
		value = int64(n)
	default:
		return 0, "", true, fmt.Errorf("%w: %T", errNotInteger, v)
	}
	return value, strconv.FormatInt(value, 10), true, nil
}

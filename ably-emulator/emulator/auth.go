package emulator

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

type authMethod int

const (
	authBasic authMethod = iota
	authToken
)

// principal is the authenticated party of a request or connection.
type principal struct {
	method  authMethod
	keyName string
	// clientID is the identity bound to the credentials: "" for none, "*"
	// for a wildcard token, or one client id.
	clientID   string
	capability capability
	// expires is the token expiry; zero for Basic auth.
	expires time.Time
}

// messageClientID returns the clientId to publish a message with, given the
// clientId the message asked for. Basic auth and wildcard tokens may publish
// as anyone; a token bound to a client id may publish only as that client;
// a token without one may not name a client.
func (p *principal) messageClientID(requested string) (string, *ErrorInfo) {
	switch {
	case p.clientID == "*", p.method == authBasic && p.clientID == "":
		return requested, nil
	case p.clientID == "":
		if requested != "" {
			return "", errUnauthorized(codeInvalidClientID,
				"invalid clientId %q: the credentials are not bound to a client id, so messages may not name one", requested)
		}
		return "", nil
	case requested != "" && requested != p.clientID:
		return "", errUnauthorized(codeInvalidClientID,
			"invalid clientId %q: the credentials are bound to client id %q", requested, p.clientID)
	default:
		return p.clientID, nil
	}
}

// authenticateHTTP checks the Authorization header of a REST request, or the
// key or access_token query parameter when the header is absent.
func (s *Server) authenticateHTTP(r *http.Request) (*principal, *ErrorInfo) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return s.authenticateQuery(r.URL.Query().Get("key"), r.URL.Query().Get("access_token"))
	}
	scheme, credentials, _ := strings.Cut(header, " ")
	credentials = strings.TrimSpace(credentials)
	switch strings.ToLower(scheme) {
	case "basic":
		decoded, err := base64.StdEncoding.DecodeString(credentials)
		if err != nil {
			return nil, errBadRequest(codeInvalidCredential, "invalid Basic credentials: not base64")
		}
		keyName, secret, found := strings.Cut(string(decoded), ":")
		if !found {
			return nil, errBadRequest(codeInvalidCredential, "invalid Basic credentials: expected keyName:secret")
		}
		p, errInfo := s.authenticateKey(keyName, secret)
		if errInfo != nil {
			return nil, errInfo
		}
		if encoded := r.Header.Get("X-Ably-ClientId"); encoded != "" {
			clientID, err := base64.StdEncoding.DecodeString(encoded)
			if err != nil {
				return nil, errBadRequest(codeInvalidClientID, "invalid X-Ably-ClientId header: not base64")
			}
			p.clientID = string(clientID)
		}
		return p, nil
	case "bearer":
		// The client libraries send the token base64-encoded; accept a raw
		// token too, as a hand-written request may send one.
		token := credentials
		if decoded, err := base64.StdEncoding.DecodeString(credentials); err == nil {
			token = string(decoded)
		}
		return s.authenticateToken(token)
	default:
		return nil, errUnauthorized(codeInvalidCredentials, "unsupported Authorization scheme %q; use Basic or Bearer", scheme)
	}
}

// authenticateQuery authenticates with the key or access_token parameter of a
// realtime connection or REST request.
func (s *Server) authenticateQuery(key, accessToken string) (*principal, *ErrorInfo) {
	switch {
	case accessToken != "":
		return s.authenticateToken(accessToken)
	case key != "":
		keyName, secret, found := strings.Cut(key, ":")
		if !found {
			return nil, errBadRequest(codeInvalidCredential, "invalid key parameter: expected appId.keyId:secret")
		}
		return s.authenticateKey(keyName, secret)
	default:
		return nil, errUnauthorized(codeInvalidCredentials,
			"no credentials: send an Authorization header, or a key or access_token parameter")
	}
}

// authenticateKey checks a key name and secret against the configured keys.
func (s *Server) authenticateKey(keyName, secret string) (*principal, *ErrorInfo) {
	key, ok := s.keys[keyName]
	if !ok {
		return nil, newErrorInfo(http.StatusNotFound, codeNotFound, "key %q not found", keyName)
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(key.Secret)) != 1 {
		return nil, errUnauthorized(codeInvalidCredentials, "invalid credentials: wrong secret for key %q", keyName)
	}
	return &principal{method: authBasic, keyName: keyName, capability: s.keyCapability}, nil
}

// authenticateToken looks up a token that the emulator issued.
func (s *Server) authenticateToken(token string) (*principal, *ErrorInfo) {
	now := s.cfg.Now()
	details, ok := s.tokens.lookup(token, now)
	if !ok {
		return nil, errUnauthorized(codeTokenUnrecognised, "token unrecognised: it was not issued by this emulator or has been forgotten")
	}
	if !now.Before(details.expires) {
		return nil, errUnauthorized(codeTokenExpired, "token expired at %s", details.expires.UTC().Format(time.RFC3339Nano))
	}
	return &principal{
		method:     authToken,
		keyName:    details.keyName,
		clientID:   details.clientID,
		capability: details.capability,
		expires:    details.expires,
	}, nil
}

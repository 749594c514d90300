package emulator

import (
	"sync"
	"time"
)

const (
	// expiredTokenRetention is how long an expired token is remembered, so
	// that it is rejected as expired (40142) and not as unknown (40143).
	expiredTokenRetention = time.Hour
	// pruneInterval is the least time between two sweeps of the stores.
	pruneInterval = time.Minute
)

// issuedToken is what the emulator remembers about a token it issued. The
// token string itself is the map key and is never logged.
type issuedToken struct {
	keyName        string
	clientID       string
	capabilityJSON string
	capability     capability
	issued         time.Time
	expires        time.Time
}

// tokenStore holds the issued tokens and the nonces of the signed token
// requests seen recently. Expired entries are swept at most once a minute,
// during other calls.
type tokenStore struct {
	mu        sync.Mutex
	tokens    map[string]*issuedToken
	nonces    map[string]time.Time // keyName + "\n" + nonce -> time it may be forgotten
	lastPrune time.Time
}

func newTokenStore() *tokenStore {
	return &tokenStore{
		tokens: make(map[string]*issuedToken),
		nonces: make(map[string]time.Time),
	}
}

// add stores a token under the given token string.
func (s *tokenStore) add(token string, details *issuedToken, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	s.tokens[token] = details
}

// lookup returns the token's details, or false if it is unknown.
func (s *tokenStore) lookup(token string, now time.Time) (*issuedToken, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	details, ok := s.tokens[token]
	return details, ok
}

// useNonce records a token request nonce and returns false if it was seen
// before and not yet forgotten. forgetAfter must lie past the time until
// which the request's timestamp is accepted.
func (s *tokenStore) useNonce(keyName, nonce string, forgetAfter, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	key := keyName + "\n" + nonce
	if _, seen := s.nonces[key]; seen {
		return false
	}
	s.nonces[key] = forgetAfter
	return true
}

func (s *tokenStore) pruneLocked(now time.Time) {
	if now.Sub(s.lastPrune) < pruneInterval && now.After(s.lastPrune) {
		return
	}
	s.lastPrune = now
	for token, details := range s.tokens {
		if now.After(details.expires.Add(expiredTokenRetention)) {
			delete(s.tokens, token)
		}
	}
	for key, forgetAfter := range s.nonces {
		if now.After(forgetAfter) {
			delete(s.nonces, key)
		}
	}
}

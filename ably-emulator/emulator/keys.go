package emulator

import (
	"fmt"
	"strings"
)

// APIKey is an Ably API key, written appId.keyId:secret. Its name,
// appId.keyId, is public; the secret is not and is never logged.
type APIKey struct {
	AppID  string
	KeyID  string
	Secret string
}

// Name returns the public part of the key, appId.keyId.
func (k APIKey) Name() string {
	return k.AppID + "." + k.KeyID
}

// String returns the whole key, secret included, as clients take it.
func (k APIKey) String() string {
	return k.Name() + ":" + k.Secret
}

// ParseKey parses an API key of the form appId.keyId:secret. The error wraps
// ErrInvalidKey and names the key by its public name only.
func ParseKey(raw string) (APIKey, error) {
	name, secret, found := strings.Cut(raw, ":")
	if !found {
		return APIKey{}, fmt.Errorf("%w: %q has no ':'; the form is appId.keyId:secret", ErrInvalidKey, redactKey(raw))
	}
	appID, keyID, found := strings.Cut(name, ".")
	switch {
	case !found || appID == "" || keyID == "":
		return APIKey{}, fmt.Errorf("%w: key name %q is not of the form appId.keyId", ErrInvalidKey, name)
	case strings.ContainsAny(name, " \t\r\n/,"):
		return APIKey{}, fmt.Errorf("%w: key name %q contains a space, '/' or ','", ErrInvalidKey, name)
	case secret == "":
		return APIKey{}, fmt.Errorf("%w: key %q has an empty secret", ErrInvalidKey, name)
	case strings.ContainsAny(secret, " \t\r\n,:"):
		return APIKey{}, fmt.Errorf("%w: the secret of key %q contains a space, ',' or ':'", ErrInvalidKey, name)
	}
	return APIKey{AppID: appID, KeyID: keyID, Secret: secret}, nil
}

// redactKey returns raw with everything after the first ':' replaced, so
// that a malformed key can be named in an error without its secret.
func redactKey(raw string) string {
	name, _, found := strings.Cut(raw, ":")
	if !found {
		if len(raw) > 12 {
			return raw[:12] + "…"
		}
		return raw
	}
	return name + ":<redacted>"
}

// GenerateKey returns a new random API key of the form appId.keyId:secret,
// with a 6-character appId and keyId and a 256-bit secret from crypto/rand.
func GenerateKey() string {
	key := APIKey{
		AppID:  randomAlphanumeric(6),
		KeyID:  randomAlphanumeric(6),
		Secret: randomToken(32),
	}
	return key.String()
}

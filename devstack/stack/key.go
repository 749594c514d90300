package stack

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// NewKey returns a random Ably-style API key, appId.keyId:secret, for one run
// of the emulator. It is never written to a file or a log.
func NewKey() (string, error) {
	buf := make([]byte, 4+4+24)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate a key: %w", err)
	}
	appID := hex.EncodeToString(buf[:4])
	keyID := hex.EncodeToString(buf[4:8])
	secret := base64.RawURLEncoding.EncodeToString(buf[8:])
	return appID + "." + keyID + ":" + secret, nil
}

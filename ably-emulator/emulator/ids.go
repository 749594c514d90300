package emulator

import (
	"crypto/rand"
	"encoding/base64"
)

const alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomAlphanumeric returns n characters drawn uniformly from [A-Za-z0-9].
// Since Go 1.24, crypto/rand.Read crashes the program instead of returning
// an error, so none is checked.
func randomAlphanumeric(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		_, _ = rand.Read(buf)
		for _, b := range buf {
			// 248 is the largest multiple of 62 below 256, so rejecting
			// bytes from 248 up keeps the draw uniform.
			if b < 248 && len(out) < n {
				out = append(out, alphanumeric[int(b)%len(alphanumeric)])
			}
		}
	}
	return string(out)
}

// randomToken returns nBytes random bytes as unpadded URL-safe base64.
func randomToken(nBytes int) string {
	buf := make([]byte, nBytes)
	_, _ = rand.Read(buf)
	return base64.RawURLEncoding.EncodeToString(buf)
}

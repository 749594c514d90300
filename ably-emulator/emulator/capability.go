package emulator

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Capability operations that the emulator checks.
const (
	opPublish   = "publish"
	opSubscribe = "subscribe"
	opPresence  = "presence"
	opHistory   = "history"
	opAny       = "*"
)

// allCapability is the capability of every configured key and the default of
// a token request that names none.
const allCapability = `{"*":["*"]}`

// capability maps a resource pattern to the operations it permits, as in
// Ably's capability JSON, for example {"trades":["subscribe"],"ns:*":["*"]}.
type capability map[string][]string

// parseCapability parses and checks Ably's capability JSON.
func parseCapability(raw string) (capability, error) {
	var parsed map[string][]string
	if err := json.Unmarshal([]byte(raw), &parsed); err != nil {
		return nil, fmt.Errorf("capability is not a JSON object of string arrays: %w", err)
	}
	if len(parsed) == 0 {
		return nil, fmt.Errorf("capability is empty")
	}
	for resource, ops := range parsed {
		if resource == "" {
			return nil, fmt.Errorf("capability has an empty resource name")
		}
		if len(ops) == 0 {
			return nil, fmt.Errorf("capability resource %q lists no operations", resource)
		}
	}
	return capability(parsed), nil
}

// allows reports whether op is permitted on channel.
func (c capability) allows(channel, op string) bool {
	for resource, ops := range c {
		if !matchResource(resource, channel) {
			continue
		}
		for _, permitted := range ops {
			if permitted == opAny || permitted == op {
				return true
			}
		}
	}
	return false
}

// allowsAny reports whether any operation is permitted on channel, which is
// what attaching to it requires.
func (c capability) allowsAny(channel string) bool {
	for resource := range c {
		if matchResource(resource, channel) {
			return true
		}
	}
	return false
}

// modeFlags returns the channel mode flags (publish, subscribe, presence and
// presence_subscribe) that the capability grants on channel.
func (c capability) modeFlags(channel string) int64 {
	var flags int64
	if c.allows(channel, opPublish) {
		flags |= flagPublish
	}
	if c.allows(channel, opSubscribe) {
		flags |= flagSubscribe
	}
	if c.allows(channel, opPresence) {
		flags |= flagPresence
	}
	if c.allows(channel, opSubscribe) || c.allows(channel, opPresence) {
		flags |= flagPresenceSubscribe
	}
	return flags
}

// matchResource matches a channel name against a capability resource: "*"
// matches every channel, "ns:*" every channel whose name starts with "ns:",
// and any other resource only the channel of that exact name.
// NOTE: Ably's qualified resources such as "[*]*" are not supported.
func matchResource(resource, channel string) bool {
	if resource == "*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(resource, "*"); ok && strings.HasSuffix(prefix, ":") {
		return strings.HasPrefix(channel, prefix)
	}
	return resource == channel
}

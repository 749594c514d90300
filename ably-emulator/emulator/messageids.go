package emulator

import (
	"strconv"
	"strings"
)

// checkMessageIDs enforces Ably's rule for client-supplied ids in a REST or
// realtime publish of two or more messages. Either no message has an id, or
// every message has the id <base>:<index> with one shared base and its
// zero-based position as index. The index is the text after the last ':', so
// the base may contain ':'. A publish of one message may carry any id.
//
// Ably rejects a publish that breaks the rule whole, with 40031 and status
// 400. Sources: Ably's error page for 40031, whose two message texts start
// the emulator's messages, and Ably's FAQ "Client-specified message ID
// restrictions for multiple messages published atomically".
//
// NOTE: Ably does not document whether an empty base (":0", ":1") is valid.
// The emulator rejects it.
func checkMessageIDs(messages []*Message) *ErrorInfo {
	if len(messages) < 2 {
		return nil
	}
	withID := 0
	for _, m := range messages {
		if m.ID != "" {
			withID++
		}
	}
	if withID == 0 {
		return nil
	}
	for i, m := range messages {
		if m.ID == "" {
			return errBadRequest(codeInvalidMessageID,
				"Client-specified message id cannot be empty: message %d of %d has no id while %d have one; give every message an id <base>:<index>, or none",
				i, len(messages), withID)
		}
	}

	separator := strings.LastIndexByte(messages[0].ID, ':')
	if separator <= 0 {
		return errMessageIDFormat(0, messages[0].ID, "<base>:0")
	}
	base := messages[0].ID[:separator]
	for i, m := range messages {
		if !hasIndexedID(m.ID, base, i) {
			return errMessageIDFormat(i, m.ID, base+":"+strconv.Itoa(i))
		}
	}
	return nil
}

// hasIndexedID reports whether id is exactly base + ":" + index in decimal,
// without allocating.
func hasIndexedID(id, base string, index int) bool {
	rest, ok := strings.CutPrefix(id, base)
	if !ok {
		return false
	}
	digits, ok := strings.CutPrefix(rest, ":")
	if !ok {
		return false
	}
	var buf [20]byte
	return digits == string(strconv.AppendInt(buf[:0], int64(index), 10))
}

func errMessageIDFormat(index int, id, expected string) *ErrorInfo {
	return errBadRequest(codeInvalidMessageID,
		"Client-specified message ids do not match the required format for multi-message ProtocolMessages: message %d has id %q, expected %q; ids of one publish are <base>:<index> with one base and indexes 0, 1, 2, ... in array order",
		index, id, expected)
}

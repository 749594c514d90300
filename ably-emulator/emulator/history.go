package emulator

import (
	"fmt"
	"strconv"
	"strings"
)

// position is the place of an accepted message in its channel: the number of
// the publish that carried it (channel.sequence) and its index in that
// publish. Positions order messages by arrival. The zero position comes
// before every message.
type position struct {
	sequence uint64
	index    int
}

// after reports whether p comes after q.
func (p position) after(q position) bool {
	if p.sequence != q.sequence {
		return p.sequence > q.sequence
	}
	return p.index > q.index
}

// formatSerial returns the serial of the message at p, accepted at unixMilli
// by the emulator serverID. Serials sort in arrival order within a channel
// while sequence has at most 6 digits and index at most 3, and parseSerial
// reads p back from them.
func formatSerial(unixMilli int64, serverID string, p position) string {
	if unixMilli < 0 || p.index < 0 {
		return fmt.Sprintf("%014d-%06d@%s:%03d", unixMilli, p.sequence, serverID, p.index)
	}
	// The same text as the Sprintf above, built without fmt because a
	// publish formats one serial per message.
	var stack [64]byte
	buf := appendZeroPadded(stack[:0], uint64(unixMilli), 14)
	buf = append(buf, '-')
	buf = appendZeroPadded(buf, p.sequence, 6)
	buf = append(buf, '@')
	buf = append(buf, serverID...)
	buf = append(buf, ':')
	buf = appendZeroPadded(buf, uint64(p.index), 3)
	return string(buf)
}

// appendZeroPadded appends v in decimal, padded with leading zeros to at
// least width digits, as fmt's %0<width>d does for a non-negative value.
func appendZeroPadded(buf []byte, v uint64, width int) []byte {
	var digits [20]byte
	text := strconv.AppendUint(digits[:0], v, 10)
	for range width - len(text) {
		buf = append(buf, '0')
	}
	return append(buf, text...)
}

// parseSerial returns the position in a serial that formatSerial made for
// serverID. It returns false for any other string, including a serial of
// another emulator instance, whose positions mean nothing here.
func parseSerial(serial, serverID string) (position, bool) {
	head, tail, found := strings.Cut(serial, "@")
	if !found {
		return position{}, false
	}
	server, indexText, found := strings.Cut(tail, ":")
	if !found || server != serverID {
		return position{}, false
	}
	_, sequenceText, found := strings.Cut(head, "-")
	if !found {
		return position{}, false
	}
	sequence, err := strconv.ParseUint(sequenceText, 10, 64)
	if err != nil {
		return position{}, false
	}
	index, err := strconv.Atoi(indexText)
	if err != nil || index < 0 {
		return position{}, false
	}
	return position{sequence: sequence, index: index}, true
}

// historyEntry is one accepted message kept for history, rewind and resume.
// The message is never changed after it is accepted.
type historyEntry struct {
	message *Message
	pos     position
}

// historyBuffer keeps the last limit accepted messages of a channel in
// arrival order, overwriting the oldest once full. Not safe for concurrent
// use: the channel lock guards it.
type historyBuffer struct {
	limit   int
	entries []historyEntry
	start   int // index of the oldest entry once the buffer is full
	// lastEvicted is the position of the newest message dropped to make
	// room, the zero position while none was dropped.
	lastEvicted position
}

func newHistoryBuffer(limit int) *historyBuffer {
	return &historyBuffer{limit: limit}
}

func (b *historyBuffer) add(m *Message, pos position) {
	entry := historyEntry{message: m, pos: pos}
	if len(b.entries) < b.limit {
		b.entries = append(b.entries, entry)
		return
	}
	b.lastEvicted = b.entries[b.start].pos
	b.entries[b.start] = entry
	b.start = (b.start + 1) % b.limit
}

func (b *historyBuffer) len() int {
	return len(b.entries)
}

// at returns the i-th kept entry, 0 being the oldest.
func (b *historyBuffer) at(i int) historyEntry {
	return b.entries[(b.start+i)%len(b.entries)]
}

// after returns the kept messages that come after pos, oldest first, and
// whether they are all the channel's messages after pos. They are not when
// a message after pos was dropped to make room.
func (b *historyBuffer) after(pos position) ([]historyEntry, bool) {
	complete := !b.lastEvicted.after(pos)
	first := b.len()
	for first > 0 && b.at(first-1).pos.after(pos) {
		first--
	}
	out := make([]historyEntry, 0, b.len()-first)
	for i := first; i < b.len(); i++ {
		out = append(out, b.at(i))
	}
	return out, complete
}

// historyQuery selects messages for GET /channels/{channel}/messages.
type historyQuery struct {
	// start and end bound the timestamps, in milliseconds since the Unix
	// epoch, both inclusive; end 0 means no upper bound.
	start, end int64
	limit      int
	forwards   bool
	// until, when set, excludes messages after it (from_serial).
	until *position
	// cursor, when set, is the position of the last message of the
	// previous page: the page holds only messages beyond it in the
	// direction of travel.
	cursor *position
}

// query returns at most q.limit messages that match q, in the direction of
// q, and whether more match beyond them.
func (b *historyBuffer) query(q historyQuery) ([]historyEntry, bool) {
	matches := func(e historyEntry) bool {
		switch {
		case e.message.Timestamp < q.start:
			return false
		case q.end != 0 && e.message.Timestamp > q.end:
			return false
		case q.until != nil && e.pos.after(*q.until):
			return false
		case q.cursor != nil && q.forwards && !e.pos.after(*q.cursor):
			return false
		case q.cursor != nil && !q.forwards && !q.cursor.after(e.pos):
			return false
		}
		return true
	}
	out := make([]historyEntry, 0, min(q.limit, b.len()))
	for n := range b.len() {
		i := b.len() - 1 - n
		if q.forwards {
			i = n
		}
		entry := b.at(i)
		if !matches(entry) {
			continue
		}
		if len(out) == q.limit {
			return out, true
		}
		out = append(out, entry)
	}
	return out, false
}

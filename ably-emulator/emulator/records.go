package emulator

import "time"

// recordBuffer keeps the last limit accepted messages of a channel in arrival
// order. It grows on demand up to limit and then overwrites the oldest entry.
// It stores the accepted *Message, which no code changes after admission,
// and builds the RecordedMessage only when the messages are listed, so that
// a publish does not pay for the inspection form. Not safe for concurrent
// use.
type recordBuffer struct {
	limit   int
	items   []recordEntry
	start   int // index of the oldest item once the buffer is full
	dropped int64
}

// recordEntry is an accepted message and its arrival time.
type recordEntry struct {
	message    *Message
	receivedAt time.Time
}

func newRecordBuffer(limit int) *recordBuffer {
	return &recordBuffer{limit: limit}
}

func (b *recordBuffer) add(m *Message, receivedAt time.Time) {
	entry := recordEntry{message: m, receivedAt: receivedAt}
	if len(b.items) < b.limit {
		b.items = append(b.items, entry)
		return
	}
	b.items[b.start] = entry
	b.start = (b.start + 1) % b.limit
	b.dropped++
}

// entries returns a copy of the kept entries, oldest first.
func (b *recordBuffer) entries() []recordEntry {
	out := make([]recordEntry, 0, len(b.items))
	out = append(out, b.items[b.start:]...)
	out = append(out, b.items[:b.start]...)
	return out
}

// recordedMessages builds the inspection form of entries.
func recordedMessages(entries []recordEntry) []RecordedMessage {
	out := make([]RecordedMessage, len(entries))
	for i, entry := range entries {
		out[i] = newRecordedMessage(entry.message, entry.receivedAt)
	}
	return out
}

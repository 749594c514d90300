package emulator

// recordBuffer keeps the last limit accepted messages of a channel in arrival
// order. It grows on demand up to limit and then overwrites the oldest entry.
// Not safe for concurrent use.
type recordBuffer struct {
	limit   int
	items   []RecordedMessage
	start   int // index of the oldest item once the buffer is full
	dropped int64
}

func newRecordBuffer(limit int) *recordBuffer {
	return &recordBuffer{limit: limit}
}

func (b *recordBuffer) add(m RecordedMessage) {
	if len(b.items) < b.limit {
		b.items = append(b.items, m)
		return
	}
	b.items[b.start] = m
	b.start = (b.start + 1) % b.limit
	b.dropped++
}

// list returns a copy of the kept messages, oldest first.
func (b *recordBuffer) list() []RecordedMessage {
	out := make([]RecordedMessage, 0, len(b.items))
	out = append(out, b.items[b.start:]...)
	out = append(out, b.items[:b.start]...)
	return out
}

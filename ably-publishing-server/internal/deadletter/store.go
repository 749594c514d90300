// Package deadletter reads the dead-letter list and puts its entries back
// on the queue, for the deadletter subcommand that operators run.
package deadletter

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/lib/keys"
	"github.com/redis/go-redis/v9"
)

//go:embed requeue.lua
var requeueSource string

var requeueScript = redis.NewScript(requeueSource)

// Errors returned by the Store.
var (
	// ErrNotFound means no entry matches a reference.
	ErrNotFound = errors.New("dead-letter entry not found")
	// ErrInvalidReference means a reference is neither an index nor a trade id.
	ErrInvalidReference = errors.New("invalid dead-letter reference")
)

// pageSize is the number of entries read with one LRANGE.
const pageSize = 500

// Entry is one element of the dead-letter list.
type Entry struct {
	queue.DeadLetterEntry
	// Index is the entry's 0-based position in the list when it was read.
	Index int64 `json:"index"`
	// TradeID is the "id" field of the payload, or "" when the payload is
	// not a JSON object with a string id.
	TradeID string `json:"trade_id"`
	// Raw is the entry exactly as stored, which identifies it for Requeue.
	Raw string `json:"-"`
	// DecodeError is set when the stored entry is not valid JSON. Payload
	// then contains the raw entry.
	DecodeError string `json:"decode_error,omitempty"`
}

// Store reads and requeues the entries of one queue's dead-letter list.
type Store struct {
	client redis.Cmdable
	dead   string
	queue  string
}

// New returns the Store of the queue queueKey.
func New(client redis.Cmdable, queueKey string) *Store {
	return &Store{client: client, dead: keys.Dead(queueKey), queue: keys.Queue(queueKey)}
}

// DeadKey returns the key of the dead-letter list.
func (s *Store) DeadKey() string { return s.dead }

// Count returns the number of entries.
func (s *Store) Count(ctx context.Context) (int64, error) {
	n, err := s.client.LLen(ctx, s.dead).Result()
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", s.dead, err)
	}
	return n, nil
}

// Each calls fn for every entry, oldest first, reading pageSize entries
// at a time. It stops at the first error fn returns.
func (s *Store) Each(ctx context.Context, fn func(Entry) error) error {
	for start := int64(0); ; start += pageSize {
		raws, err := s.client.LRange(ctx, s.dead, start, start+pageSize-1).Result()
		if err != nil {
			return fmt.Errorf("read %s: %w", s.dead, err)
		}
		for i, raw := range raws {
			if err := fn(decode(start+int64(i), raw)); err != nil {
				return err
			}
		}
		if len(raws) < pageSize {
			return nil
		}
	}
}

// Find returns the entries that ref names: a 0-based index, or a trade id
// written as it is or as id:TRADE_ID, which matches every entry of that
// trade. A ref made of digits only is an index.
func (s *Store) Find(ctx context.Context, ref string) ([]Entry, error) {
	index, tradeID, err := parseReference(ref)
	if err != nil {
		return nil, err
	}
	if tradeID == "" {
		raw, err := s.client.LIndex(ctx, s.dead, index).Result()
		if errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("%w: no index %d in %s", ErrNotFound, index, s.dead)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", s.dead, err)
		}
		return []Entry{decode(index, raw)}, nil
	}
	var found []Entry
	err = s.Each(ctx, func(e Entry) error {
		if e.TradeID == tradeID {
			found = append(found, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%w: no entry of trade %q in %s", ErrNotFound, tradeID, s.dead)
	}
	return found, nil
}

// Requeue moves e back to the tail of the queue in one Lua script. It
// returns false, changing nothing, when the list no longer contains e.
func (s *Store) Requeue(ctx context.Context, e Entry) (bool, error) {
	if e.DecodeError != "" {
		return false, fmt.Errorf("requeue index %d: the entry is not valid JSON (%s), so its payload is unknown",
			e.Index, e.DecodeError)
	}
	payload, err := e.RawPayload()
	if err != nil {
		return false, fmt.Errorf("requeue index %d: decode payload: %w", e.Index, err)
	}
	moved, err := requeueScript.Run(ctx, s.client, []string{s.dead, s.queue}, e.Raw, payload).Int()
	if err != nil {
		return false, fmt.Errorf("requeue index %d to %s: %w", e.Index, s.queue, err)
	}
	return moved == 1, nil
}

// RequeueAll moves every entry that is in the list when it starts back to
// the queue, oldest first, and returns how many it moved. Entries added
// meanwhile stay. Each move is atomic, so an interrupted call leaves every
// entry either in the list or on the queue.
func (s *Store) RequeueAll(ctx context.Context) (int, error) {
	total, err := s.Count(ctx)
	if err != nil {
		return 0, err
	}
	moved := 0
	for range total {
		raw, err := s.client.LIndex(ctx, s.dead, 0).Result()
		if errors.Is(err, redis.Nil) {
			break
		}
		if err != nil {
			return moved, fmt.Errorf("read %s: %w", s.dead, err)
		}
		ok, err := s.Requeue(ctx, decode(0, raw))
		if err != nil {
			return moved, err
		}
		if ok {
			moved++
		}
	}
	return moved, nil
}

func decode(index int64, raw string) Entry {
	e := Entry{Index: index, Raw: raw}
	if err := json.Unmarshal([]byte(raw), &e.DeadLetterEntry); err != nil {
		e.DecodeError = err.Error()
		e.Payload = raw
		return e
	}
	if payload, err := e.RawPayload(); err == nil {
		var fields struct {
			ID string `json:"id"`
		}
		if json.Unmarshal([]byte(payload), &fields) == nil {
			e.TradeID = fields.ID
		}
	}
	return e
}

// parseReference returns the index, or the trade id, that ref names.
func parseReference(ref string) (index int64, tradeID string, err error) {
	if id, ok := strings.CutPrefix(ref, "id:"); ok {
		if id == "" {
			return 0, "", fmt.Errorf("%w %q: expected a trade id after id:", ErrInvalidReference, ref)
		}
		return 0, id, nil
	}
	if ref == "" {
		return 0, "", fmt.Errorf("%w: empty; expected an index such as 0 or a trade id", ErrInvalidReference)
	}
	if strings.Trim(ref, "0123456789") == "" {
		index, err := strconv.ParseInt(ref, 10, 64)
		if err != nil {
			return 0, "", fmt.Errorf("%w %q: index out of range", ErrInvalidReference, ref)
		}
		return index, "", nil
	}
	return 0, ref, nil
}

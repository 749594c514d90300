package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/ably-publishing-server/internal/health"
	"github.com/ably-fanout/ably-publishing-server/internal/limiter"
	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/ably-publishing-server/internal/route"
	"github.com/ably-fanout/ably-publishing-server/internal/worker"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/redistest"
	"github.com/ably-fanout/lib/trade"
	"github.com/redis/go-redis/v9"
)

// batchOptions configure a batched replica.
type batchOptions struct {
	size     int
	maxBytes int
	// limit is the single channel's limit, or with template set the
	// account limit.
	limit        int
	channelLimit int
	template     string
	// wrapQueue, when set, wraps the replica's batch queue.
	wrapQueue func(worker.BatchQueue) worker.BatchQueue
	// serial turns off the pipelined loop that a single channel uses.
	serial bool
}

// newBatchReplica returns a replica that publishes in batches, with its
// own Redis and Ably clients as one publisher process has.
func newBatchReplica(tb testing.TB, srv *redistest.Server, emu *emulatortest.Instance, id string, opts batchOptions) *replica {
	tb.Helper()
	if opts.template == "" {
		opts.template = channelName
	}
	rdb := newRedisClient(tb, srv)
	lim, err := limiter.New(rdb, keys.RateLog(queueKey), opts.limit, time.Second,
		limiter.WithMargin(50*time.Millisecond), limiter.WithRequestPrefix(id))
	if err != nil {
		tb.Fatalf("limiter.New: %v", err)
	}
	router, err := route.New(opts.template)
	if err != nil {
		tb.Fatalf("route.New: %v", err)
	}
	m := metrics.NewPublisher(nil)
	group, err := limiter.NewGroup(rdb, time.Second, limiter.WithMargin(50*time.Millisecond),
		limiter.WithHold(6*time.Second), limiter.WithRequestPrefix(id), limiter.WithMetrics(m))
	if err != nil {
		tb.Fatalf("limiter.NewGroup: %v", err)
	}
	account := limiter.Scope{Key: keys.RateLog(queueKey), Counts: keys.RateCounts(queueKey), Limit: opts.limit}
	scopes := func(string) []limiter.Scope { return []limiter.Scope{account} }
	if router.Routed() {
		scopes = func(channel string) []limiter.Scope {
			own := limiter.Scope{Key: keys.ChannelRateLog(queueKey, channel), Counts: keys.ChannelRateCounts(queueKey, channel),
				Limit: opts.channelLimit}
			return []limiter.Scope{own, account}
		}
	}
	channelLimiter := limiter.Channels{Group: group, Scopes: scopes}
	client, err := publish.NewClient(publish.ClientConfig{Key: emu.Key, Endpoint: emu.URL, RequestTimeout: 5 * time.Second})
	if err != nil {
		tb.Fatalf("publish.NewClient: %v", err)
	}
	q := queue.New(rdb, queueKey, id)
	var batchQueue worker.BatchQueue = q
	if opts.wrapQueue != nil {
		batchQueue = opts.wrapQueue(q)
	}
	cfg := fastRetries
	cfg.Batching = &worker.Batching{
		Size:      opts.size,
		MaxBytes:  opts.maxBytes,
		Route:     router.Channel,
		Pipelined: !router.Routed() && !opts.serial,
		Queue:     batchQueue,
		Limiter:   channelLimiter,
		Publisher: publish.NewBatchPublisher(client),
	}
	state := &health.State{}
	logger := slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelInfo})).With("replica", id)
	w := worker.New(cfg, q, lim, publish.New(client, channelName), state, m, logger)
	return &replica{id: id, worker: w, health: state, metrics: m}
}

// newBatchEmulator starts an emulator whose channel limit is far above
// the test's own limits, so that an excess shows up as a count.
func newBatchEmulator(tb testing.TB, maxMessageSize int) *emulatortest.Instance {
	tb.Helper()
	return emulatortest.Start(tb, emulatortest.WithConfig(func(c *emulator.Config) {
		c.ChannelRate = 10000
		if maxMessageSize > 0 {
			c.MaxMessageSize = maxMessageSize
		}
	}))
}

// pushSymbolTrades appends n valid trades that cycle through symbols, with
// a sequence number per symbol, and returns their ids.
func pushSymbolTrades(tb testing.TB, rdb *redis.Client, prefix string, n int, symbols []string) []string {
	tb.Helper()
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("%s-%d", prefix, i+1)
		t := newTrade(ids[i], int64(i/len(symbols)+1))
		t.Symbol = symbols[i%len(symbols)]
		push(tb, rdb, keys.Queue(queueKey), tradeJSON(tb, t))
	}
	return ids
}

// publishedTrade is one accepted message with the trade it carries.
type publishedTrade struct {
	messageID string
	trade     trade.Trade
	at        time.Time
	size      int
}

func publishedTrades(tb testing.TB, emu *emulatortest.Instance, channel string) []publishedTrade {
	tb.Helper()
	var out []publishedTrade
	for _, m := range emu.Server.Messages(channel) {
		var t trade.Trade
		if err := json.Unmarshal(m.Data, &t); err != nil {
			tb.Fatalf("message %s: data is not a trade: %v", m.ID, err)
		}
		out = append(out, publishedTrade{messageID: m.ID, trade: t, at: m.ReceivedAt, size: len(m.Data) + len(m.Name)})
	}
	return out
}

// assertTradesOnce checks that every id in want was accepted exactly once
// over channels, and nothing else.
func assertTradesOnce(tb testing.TB, emu *emulatortest.Instance, channels []string, want []string) {
	tb.Helper()
	counts := map[string]int{}
	for _, channel := range channels {
		for _, p := range publishedTrades(tb, emu, channel) {
			counts[p.trade.ID]++
		}
	}
	for _, id := range want {
		if counts[id] != 1 {
			tb.Errorf("trade %s accepted %d times, expected 1", id, counts[id])
		}
	}
	if len(counts) != len(want) {
		tb.Errorf("%d distinct trades accepted, expected %d", len(counts), len(want))
	}
}

// batchesOf groups the messages of a channel by the base of their ids,
// checking that every id is <base>:<index> and that the indexes of one
// base count up from 0 in arrival order.
func batchesOf(tb testing.TB, published []publishedTrade) map[string][]publishedTrade {
	tb.Helper()
	out := map[string][]publishedTrade{}
	for _, p := range published {
		cut := strings.LastIndexByte(p.messageID, ':')
		if cut < 0 {
			tb.Fatalf("message id %q is not <base>:<index>", p.messageID)
		}
		base := p.messageID[:cut]
		index, err := strconv.Atoi(p.messageID[cut+1:])
		if err != nil {
			tb.Fatalf("message id %q: index is not a number", p.messageID)
		}
		if index != len(out[base]) {
			tb.Errorf("message id %q arrived at position %d of its batch", p.messageID, len(out[base]))
		}
		out[base] = append(out[base], p)
	}
	return out
}

func TestBatch_PublishesEachTradeOnce(t *testing.T) {
	for _, mode := range []struct {
		name   string
		serial bool
	}{{"pipelined", false}, {"serial", true}} {
		t.Run(mode.name, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Options{})
			emu := newBatchEmulator(t, 0)
			rdb := newRedisClient(t, srv)
			ids := pushTrades(t, rdb, "b", 230)
			// A trade that cannot be parsed, among the later ones, goes to
			// the dead-letter list while the batch before it is in flight.
			push(t, rdb, keys.Queue(queueKey), "not json")
			ids = append(ids, pushTrades(t, rdb, "c", 40)...)

			offsets := &offsetRecorder{}
			r := newBatchReplica(t, srv, emu, "replica-a", batchOptions{size: 100, limit: 10000, serial: mode.serial,
				wrapQueue: func(q worker.BatchQueue) worker.BatchQueue { offsets.BatchQueue = q; return offsets }})
			r.start(t)
			waitFor(t, "270 trades to be accepted", func() bool { return accepted(emu) >= 270 })
			waitForEmptyLists(t, rdb, r)
			r.stop(t)

			assertTradesOnce(t, emu, []string{channelName}, ids)
			published := publishedTrades(t, emu, channelName)
			for i, p := range published {
				if i < len(ids) && p.trade.ID != ids[i] {
					t.Errorf("message %d carries trade %s, expected %s: one replica publishes in queue order", i, p.trade.ID, ids[i])
					break
				}
			}
			batches := batchesOf(t, published)
			if len(batches) > 10 {
				t.Errorf("%d publishes for 270 trades with BATCH_SIZE 100, expected a few", len(batches))
			}
			for base, batch := range batches {
				if batch[0].trade.ID != base {
					t.Errorf("batch %s starts with trade %s, expected the base to be the first trade's id", base, batch[0].trade.ID)
				}
				if len(batch) > 100 {
					t.Errorf("batch %s has %d trades, more than BATCH_SIZE 100", base, len(batch))
				}
			}
			if n := listLen(t, rdb, keys.Dead(queueKey)); n != 1 {
				t.Errorf("dead-letter list holds %d entries, expected the 1 invalid one", n)
			}
			if got := r.worker.Stats().Published; got != 270 {
				t.Errorf("Stats().Published = %d, expected 270", got)
			}
			if n := srv.Client().HLen(t.Context(), keys.BatchPlans(queueKey)).Val(); n != 0 {
				t.Errorf("%d batch plans left after the run, expected 0", n)
			}
			// The pipelined loop reads the next window behind the batch in
			// flight; the serial loop always reads the head.
			if got := offsets.max.Load(); mode.serial && got != 0 {
				t.Errorf("serial loop read a window at offset %d, expected only the head", got)
			} else if !mode.serial && got == 0 {
				t.Error("pipelined loop never read a window behind a batch in flight")
			}
		})
	}
}

// offsetRecorder is a BatchQueue that records the largest window offset
// requested.
type offsetRecorder struct {
	worker.BatchQueue
	max atomic.Int64
}

func (o *offsetRecorder) WindowAt(ctx context.Context, offset, size int) (queue.Window, error) {
	o.record(offset)
	return o.BatchQueue.WindowAt(ctx, offset, size)
}

func (o *offsetRecorder) AckAndWindowAt(ctx context.Context, acked []string, offset, size int) (queue.Window, int, error) {
	o.record(offset)
	return o.BatchQueue.AckAndWindowAt(ctx, acked, offset, size)
}

func (o *offsetRecorder) record(offset int) {
	if int64(offset) > o.max.Load() {
		o.max.Store(int64(offset))
	}
}

func TestBatch_SplitsBySize(t *testing.T) {
	const maxBytes = 1000
	srv := redistest.Start(t, redistest.Options{})
	// The emulator rejects a publish over maxBytes, so a wrong split shows
	// up as a rejection and a dead-lettered trade.
	emu := newBatchEmulator(t, maxBytes)
	rdb := newRedisClient(t, srv)
	ids := pushTrades(t, rdb, "s", 60)

	r := newBatchReplica(t, srv, emu, "replica-a", batchOptions{size: 100, maxBytes: maxBytes, limit: 10000})
	r.start(t)
	waitFor(t, "60 trades to be accepted", func() bool { return accepted(emu) >= 60 })
	r.stop(t)

	assertTradesOnce(t, emu, []string{channelName}, ids)
	batches := batchesOf(t, publishedTrades(t, emu, channelName))
	if len(batches) < 2 {
		t.Errorf("%d publishes, expected the 60 trades split over several", len(batches))
	}
	for base, batch := range batches {
		total := 0
		for _, p := range batch {
			total += p.size
		}
		if total > maxBytes {
			t.Errorf("batch %s totals %d bytes, over the %d-byte limit", base, total, maxBytes)
		}
	}
	if rejected := emu.Server.Stats().Channels[channelName].Rejected; rejected.TooLarge != 0 {
		t.Errorf("emulator rejected %d messages as too large", rejected.TooLarge)
	}
	if n := listLen(t, rdb, keys.Dead(queueKey)); n != 0 {
		t.Errorf("dead-letter list holds %d trades, expected 0", n)
	}
}

func TestBatch_PartialAdmission(t *testing.T) {
	const limit = 30
	srv := redistest.Start(t, redistest.Options{})
	emu := newBatchEmulator(t, 0)
	rdb := newRedisClient(t, srv)
	ids := pushTrades(t, rdb, "p", 75)

	r := newBatchReplica(t, srv, emu, "replica-a", batchOptions{size: 100, limit: limit})
	r.start(t)
	waitFor(t, "75 trades to be accepted", func() bool { return accepted(emu) >= 75 })
	r.stop(t)

	assertTradesOnce(t, emu, []string{channelName}, ids)
	if got := emu.Server.Stats().Channels[channelName].MaxInAnySecond; got > limit {
		t.Errorf("emulator counted %d messages in one second, over the limit of %d", got, limit)
	}
	for base, batch := range batchesOf(t, publishedTrades(t, emu, channelName)) {
		if len(batch) > limit {
			t.Errorf("batch %s has %d trades, more than the %d the limiter can admit at once", base, len(batch), limit)
		}
	}
}

// lostAcks is a batch queue whose acks fail after the first lose calls,
// as if the process stopped between a publish and its ack.
type lostAcks struct {
	worker.BatchQueue
	mu     sync.Mutex
	lost   int
	onLost func()
}

var errAckLost = errors.New("ack lost: the test stopped the replica")

func (q *lostAcks) AckMany(ctx context.Context, payloads []string) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.lost++
	q.onLost()
	return 0, errAckLost
}

// AckAndWindowAt loses the ack part as AckMany does.
func (q *lostAcks) AckAndWindowAt(ctx context.Context, acked []string, offset, size int) (queue.Window, int, error) {
	if len(acked) > 0 {
		_, err := q.AckMany(ctx, acked)
		return queue.Window{}, 0, err
	}
	return q.BatchQueue.AckAndWindowAt(ctx, acked, offset, size)
}

func TestBatch_RepublishKeepsMessageIDs(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := newBatchEmulator(t, 0)
	rdb := newRedisClient(t, srv)
	ids := pushTrades(t, rdb, "r", 40)

	// The first run publishes a batch of up to 25, and may start the next
	// one, and stops before the first ack, so its trades stay in the
	// processing list.
	var first *replica
	stopped := make(chan struct{})
	var once sync.Once
	first = newBatchReplica(t, srv, emu, "replica-a", batchOptions{size: 25, limit: 10000,
		wrapQueue: func(q worker.BatchQueue) worker.BatchQueue {
			return &lostAcks{BatchQueue: q, onLost: func() { once.Do(func() { close(stopped) }) }}
		}})
	first.start(t)
	select {
	case <-stopped:
	case <-time.After(hangTimeout):
		t.Fatal("first run never published a batch")
	}
	first.stop(t)
	firstRun := publishedTrades(t, emu, channelName)
	if len(firstRun) == 0 {
		t.Fatal("first run published nothing")
	}

	// The second run would form a larger batch, and the log holds at
	// least 18 entries, so that at first at most 12 slots are free, fewer
	// than the first run published. The plan makes it wait and publish the same trades again
	// with the same ids, which Ably drops.
	const secondLimit = 30
	fillLog(t, rdb, secondLimit-12)
	second := newBatchReplica(t, srv, emu, "replica-a", batchOptions{size: 40, limit: secondLimit})
	second.start(t)
	// The first run may have published a second batch before its first
	// ack failed, so the second run is done when the lists are empty.
	waitForEmptyLists(t, rdb, second)
	second.stop(t)

	assertTradesOnce(t, emu, []string{channelName}, ids)
	if got := emu.Server.Stats().Channels[channelName].Duplicates; got != int64(len(firstRun)) {
		t.Errorf("emulator dropped %d duplicates, expected the %d republished trades", got, len(firstRun))
	}
}

// fillLog adds entries to the global log until it holds at least count,
// as other replicas would, so that a replica started next finds fewer
// free slots.
func fillLog(tb testing.TB, rdb *redis.Client, count int) {
	tb.Helper()
	held, err := rdb.HGet(tb.Context(), keys.RateCounts(queueKey), "total").Int()
	if err != nil && !errors.Is(err, redis.Nil) {
		tb.Fatalf("read the log's admissions: %v", err)
	}
	missing := count - held
	if missing <= 0 {
		return
	}
	group, err := limiter.NewGroup(rdb, time.Second)
	if err != nil {
		tb.Fatalf("limiter.NewGroup: %v", err)
	}
	admitted, _, err := group.AdmitRequest(tb.Context(), group.NewRequestID(), missing, missing,
		limiter.Scope{Key: keys.RateLog(queueKey), Counts: keys.RateCounts(queueKey), Limit: 1 << 30})
	if err != nil || admitted != missing {
		tb.Fatalf("add %d entries to the log: admitted %d, %v", missing, admitted, err)
	}
}

func TestBatch_ChannelAndAccountLimits(t *testing.T) {
	const (
		channelLimit = 20
		accountLimit = 50
		trades       = 250
	)
	symbols := []string{"AAPL", "MSFT", "GOOG", "AMZN"}
	srv := redistest.Start(t, redistest.Options{})
	emu := newBatchEmulator(t, 0)
	rdb := newRedisClient(t, srv)
	ids := pushSymbolTrades(t, rdb, "c", trades, symbols)

	for i := range 3 {
		r := newBatchReplica(t, srv, emu, "replica-"+strconv.Itoa(i), batchOptions{
			size: 50, limit: accountLimit, channelLimit: channelLimit, template: "trades:{symbol}"})
		r.start(t)
	}
	channels := make([]string, len(symbols))
	for i, s := range symbols {
		channels[i] = "trades:" + s
	}
	total := func() int64 {
		var n int64
		for _, c := range channels {
			n += emu.Server.Stats().Channels[c].Accepted
		}
		return n
	}
	waitFor(t, fmt.Sprintf("%d trades to be accepted", trades), func() bool { return total() >= trades })

	assertTradesOnce(t, emu, channels, ids)
	var all []int64
	for _, c := range channels {
		if got := emu.Server.Stats().Channels[c].MaxInAnySecond; got > channelLimit {
			t.Errorf("channel %s: %d messages in one second, over its limit of %d", c, got, channelLimit)
		}
		var seqs []int64
		for _, p := range publishedTrades(t, emu, c) {
			if p.trade.Symbol != strings.TrimPrefix(c, "trades:") {
				t.Errorf("trade %s of %s published to %s", p.trade.ID, p.trade.Symbol, c)
			}
			all = append(all, p.at.UnixMicro())
			seqs = append(seqs, p.trade.Seq)
		}
		if !slices.IsSorted(seqs) && len(seqs) > 0 {
			// Replicas publish concurrently, so only the sequence numbers
			// tell the order; the check is that none repeats.
			slices.Sort(seqs)
		}
		if len(slices.Compact(seqs)) != len(seqs) {
			t.Errorf("channel %s: a sequence number repeats", c)
		}
	}
	slices.Sort(all)
	worst, first := 0, 0
	for last := range all {
		for all[last]-all[first] >= time.Second.Microseconds() {
			first++
		}
		worst = max(worst, last-first+1)
	}
	if worst > accountLimit {
		t.Errorf("%d messages over all channels in one second, over the account limit of %d", worst, accountLimit)
	}
}

// TestBatch_StopsBeforeTakenOverPlan gives a replica a processing list
// that holds its own new trades followed by a batch that a stopped replica
// had planned and published, as after a take-over. The new batch must end
// before the planned one, which is published again whole with its ids.
func TestBatch_StopsBeforeTakenOverPlan(t *testing.T) {
	for _, mode := range []struct {
		name   string
		serial bool
	}{{"pipelined", false}, {"serial", true}} {
		t.Run(mode.name, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Options{})
			emu := newBatchEmulator(t, 0)
			rdb := newRedisClient(t, srv)
			ctx := t.Context()

			var own, planned []string
			var ids []string
			var plannedTrades []trade.Trade
			for i := range 30 {
				tr := newTrade(fmt.Sprintf("own-%d", i+1), int64(i+1))
				own = append(own, tradeJSON(t, tr))
				ids = append(ids, tr.ID)
			}
			for i := range 50 {
				tr := newTrade(fmt.Sprintf("taken-%d", i+1), int64(i+1))
				planned = append(planned, tradeJSON(t, tr))
				plannedTrades = append(plannedTrades, tr)
				ids = append(ids, tr.ID)
			}
			push(t, rdb, keys.Processing(queueKey, "replica-a"), append(own, planned...)...)
			planKey, planField := queue.New(rdb, queueKey, "replica-a").PlanRef(planned[0])
			if err := rdb.HSet(ctx, planKey, planField, len(planned)).Err(); err != nil {
				t.Fatal(err)
			}
			// The stopped replica's publish of its planned batch.
			client, err := publish.NewClient(publish.ClientConfig{Key: emu.Key, Endpoint: emu.URL})
			if err != nil {
				t.Fatal(err)
			}
			if err := publish.NewBatchPublisher(client).PublishBatch(ctx, channelName, plannedTrades[0].ID, plannedTrades, planned); err != nil {
				t.Fatalf("publish the planned batch: %v", err)
			}

			r := newBatchReplica(t, srv, emu, "replica-a", batchOptions{size: 100, limit: 10000, serial: mode.serial})
			r.start(t)
			waitForEmptyLists(t, rdb, r)
			r.stop(t)

			assertTradesOnce(t, emu, []string{channelName}, ids)
			if got := emu.Server.Stats().Channels[channelName].Duplicates; got != int64(len(planned)) {
				t.Errorf("emulator dropped %d duplicates, expected the %d trades of the planned batch", got, len(planned))
			}
		})
	}
}

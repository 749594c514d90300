package main

import (
	"context"
	"strconv"
	"time"
)

// channelsResult is how many channels with their own limits reach under
// an account limit.
type channelsResult struct {
	// Rate is the accepted messages per second in steady state: the
	// account limit times steadyUse over all channels.
	Rate float64
	// MaxChannel is the largest count of one channel in any sliding
	// 1-second window of arrival time, over all channels.
	MaxChannel int
	// MaxAccount is the same count over all channels together.
	MaxAccount int
	// Rejected counts publishes the emulator rejected.
	Rejected int
}

// runChannels routes a backlog of trades over len(symbols) channels with
// CHANNEL_RATE_LIMIT channelLimit and ACCOUNT_RATE_LIMIT accountLimit, and
// measures the rate and the peaks at the emulator. The emulator's own
// channel limit is twice channelLimit, so an excess shows as a count.
func runChannels(ctx context.Context, dir string, bin binaries, replicas, channelLimit, accountLimit, batchSize int, duration time.Duration) (channelsResult, error) {
	e, err := startEnv(ctx, dir, bin, 2*channelLimit)
	if err != nil {
		return channelsResult{}, err
	}
	defer e.stop()
	seconds := int(duration / time.Second)
	if err := pushBacklog(ctx, e.rdb, "c", accountLimit*(seconds+3)); err != nil {
		return channelsResult{}, err
	}
	settings := map[string]string{
		"CHANNEL_NAME":       channelName + ":{symbol}",
		"CHANNEL_RATE_LIMIT": strconv.Itoa(channelLimit),
		"ACCOUNT_RATE_LIMIT": strconv.Itoa(accountLimit),
		"BATCH_SIZE":         strconv.Itoa(batchSize),
	}
	if err := e.startPublishers(ctx, replicas, settings); err != nil {
		return channelsResult{}, err
	}
	time.Sleep(duration)
	var res channelsResult
	var all []int64
	stats, err := e.stats(ctx)
	if err != nil {
		return res, err
	}
	for _, symbol := range symbols {
		channel := channelName + ":" + symbol
		msgs, err := e.messages(ctx, channel)
		if err != nil {
			return res, err
		}
		times := make([]int64, len(msgs))
		for i, m := range msgs {
			times[i] = m.ReceivedAt.UnixMicro()
		}
		all = append(all, times...)
		res.MaxChannel = max(res.MaxChannel, maxInWindow(times, time.Second.Microseconds()))
		for _, n := range stats[channel].Rejected {
			res.Rejected += n
		}
	}
	res.MaxAccount = maxInWindow(all, time.Second.Microseconds())
	res.Rate = float64(accountLimit) * steadyUse(all, accountLimit)
	return res, nil
}

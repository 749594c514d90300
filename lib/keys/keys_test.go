package keys_test

import (
	"strings"
	"testing"

	"github.com/ably-fanout/lib/keys"
)

// hashTag returns the part of key that Redis Cluster hashes: the text
// between the first "{" and the next "}", when that is not empty, or the
// whole key.
func hashTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	closing := strings.IndexByte(key[open+1:], '}')
	if closing <= 0 {
		return key
	}
	return key[open+1 : open+1+closing]
}

func TestKeys_ShareQueueHashTag(t *testing.T) {
	const queueKey = "{trades}"
	all := map[string]string{
		"Queue":          keys.Queue(queueKey),
		"RateLog":        keys.RateLog(queueKey),
		"ChannelRateLog": keys.ChannelRateLog(queueKey, "trades:{AAPL}"),
		"RateCounts":     keys.RateCounts(queueKey),
		"ChannelCounts":  keys.ChannelRateCounts(queueKey, "trades:{AAPL}"),
		"BatchPlans":     keys.BatchPlans(queueKey),
		"Dead":           keys.Dead(queueKey),
		"Processing":     keys.Processing(queueKey, "publisher-1"),
		"Replicas":       keys.Replicas(queueKey),
		"Recoveries":     keys.Recoveries(queueKey),
	}
	for name, key := range all {
		if got := hashTag(key); got != "trades" {
			t.Errorf("%s = %q hashes %q, expected the queue's tag %q", name, key, got, "trades")
		}
	}
}

func TestKeys_DistinctNames(t *testing.T) {
	const queueKey = "q"
	seen := map[string]string{}
	for name, key := range map[string]string{
		"RateLog":        keys.RateLog(queueKey),
		"ChannelRateLog": keys.ChannelRateLog(queueKey, "trades:AAPL"),
		"RateCounts":     keys.RateCounts(queueKey),
		"ChannelCounts":  keys.ChannelRateCounts(queueKey, "trades:AAPL"),
		"BatchPlans":     keys.BatchPlans(queueKey),
		"Dead":           keys.Dead(queueKey),
	} {
		if other, ok := seen[key]; ok {
			t.Errorf("%s and %s are both %q", name, other, key)
		}
		seen[key] = name
	}
}

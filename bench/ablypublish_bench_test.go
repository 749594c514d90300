package main

import (
	"strconv"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably/ably-go/ably"
)

// BenchmarkAblyPublish measures one ably-go REST publish into an
// in-process emulator, one message and many messages per call, so that a
// profile shows where the pipeline's per-publish cost goes.
func BenchmarkAblyPublish(b *testing.B) {
	for _, size := range []int{1, 100} {
		b.Run("messages="+strconv.Itoa(size), func(b *testing.B) {
			emu := emulatortest.Start(b, emulatortest.WithConfig(func(c *emulator.Config) {
				c.ChannelRate = 1_000_000
			}))
			client, err := ably.NewREST(emu.ClientOptions(ably.WithIdempotentRESTPublishing(false))...)
			if err != nil {
				b.Fatal(err)
			}
			channel := client.Channels.Get("trades")
			payload := newTrade("b", 1, time.Unix(0, 0))
			b.ResetTimer()
			for i := range b.N {
				msgs := make([]*ably.Message, size)
				for j := range msgs {
					msgs[j] = &ably.Message{ID: "m" + strconv.Itoa(i) + ":" + strconv.Itoa(j), Name: "trade", Data: payload}
				}
				if err := channel.PublishMultiple(b.Context(), msgs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "messages/s")
		})
	}
}

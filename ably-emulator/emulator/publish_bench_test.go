package emulator_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
)

// benchTradeJSON is the data of one message as ably-go sends a struct: the
// JSON text as a string, with encoding "json".
const benchTradeJSON = `{"id":"trading-1-42","symbol":"AAPL","price":"187.25","size":100,"side":"buy","seq":42,"ts":"2026-12-04T15:53:13.123Z"}`

// BenchmarkRESTPublish posts batches of 100 messages with ids
// <base>:<index> over HTTP on loopback, as ably-go v1.4.1 does: Basic auth,
// one keep-alive connection, JSON or MessagePack (ably-go's default) body.
// Each iteration uses a new base, so no message is a duplicate. The time
// per operation, and the metric cpu-ns/message (user and system CPU time of
// the whole test process, which is steadier than ns/op on a busy machine),
// include the client's side of the HTTP exchange.
func BenchmarkRESTPublish(b *testing.B) {
	const batchSize = 100
	for _, format := range []string{"json", "msgpack"} {
		b.Run("format="+format, func(b *testing.B) {
			emu := emulatortest.Start(b, emulatortest.WithConfig(func(cfg *emulator.Config) {
				cfg.ChannelRate = 1_000_000
			}))
			url := emu.URL + "/channels/trades/messages"
			authorization := "Basic " + base64.StdEncoding.EncodeToString([]byte(emu.Key))
			contentType := "application/json"
			if format == "msgpack" {
				contentType = "application/x-msgpack"
			}
			client := &http.Client{}

			b.ReportAllocs()
			cpuStart := processCPUTime(b)
			iteration := 0
			for b.Loop() {
				iteration++
				body := benchBatchBody(b, format, "batch-"+strconv.Itoa(iteration), batchSize)
				request, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				request.Header.Set("Authorization", authorization)
				request.Header.Set("Content-Type", contentType)
				request.Header.Set("Accept", contentType)
				response, err := client.Do(request)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, response.Body)
				_ = response.Body.Close()
				if response.StatusCode != http.StatusCreated {
					b.Fatalf("publish status = %d, want 201", response.StatusCode)
				}
			}
			cpu := processCPUTime(b) - cpuStart
			b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "messages/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*batchSize), "cpu-ns/message")

			stats := emu.Server.Stats().Channels["trades"]
			if stats.Accepted != int64(b.N*batchSize) {
				b.Fatalf("accepted = %d, want %d", stats.Accepted, b.N*batchSize)
			}
		})
	}
}

// benchBatchBody returns a publish body of n messages with ids base:0 to
// base:n-1 in the given format.
func benchBatchBody(b *testing.B, format, base string, n int) []byte {
	b.Helper()
	if format == "json" {
		quotedData := strconv.Quote(benchTradeJSON)
		var body strings.Builder
		body.WriteByte('[')
		for i := range n {
			if i > 0 {
				body.WriteByte(',')
			}
			body.WriteString(`{"id":"` + base + ":" + strconv.Itoa(i) + `","name":"trade","data":` + quotedData + `,"encoding":"json"}`)
		}
		body.WriteByte(']')
		return []byte(body.String())
	}
	messages := make([]map[string]string, n)
	for i := range messages {
		messages[i] = map[string]string{
			"id":       base + ":" + strconv.Itoa(i),
			"name":     "trade",
			"data":     benchTradeJSON,
			"encoding": "json",
		}
	}
	body, err := msgpack.Marshal(messages)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// processCPUTime returns the user and system CPU time of this process.
func processCPUTime(b *testing.B) time.Duration {
	b.Helper()
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}

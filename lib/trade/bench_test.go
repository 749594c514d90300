package trade

import "testing"

// publisherPayload is a typical trade as the publisher takes it from Redis.
const publisherPayload = `{"id":"trading-1-42","symbol":"AAPL","price":"187.25","size":10,"side":"buy","seq":1,"ts":"2026-12-04T10:00:00.000Z"}`

func BenchmarkParse(b *testing.B) {
	impls := []struct {
		name  string
		parse func([]byte) (Trade, error)
	}{
		{"current", Parse},
		{"reference", referenceParse},
	}
	data := []byte(publisherPayload)
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := impl.parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

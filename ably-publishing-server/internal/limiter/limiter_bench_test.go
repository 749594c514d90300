package limiter_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/ably-fanout/lib/redistest"
)

// BenchmarkLimiter_Admit measures admissions per second of Admit against a
// private redis-server, with one and with many admissions per call, from
// parallel goroutines. The limit is never reached, so every call admits
// all it requests and the figure is the cost of admitting. The comparison
// with redis_rate is in the bench module (make bench).
func BenchmarkLimiter_Admit(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			srv := redistest.Start(b, redistest.Options{})
			lim := newLimiter(b, newClient(b, srv), 100_000_000, time.Second)
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					admitted, _, err := lim.Admit(b.Context(), n)
					if err != nil {
						b.Error(err)
						return
					}
					if admitted != n {
						b.Errorf("admitted %d of %d", admitted, n)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "admissions/s")
		})
	}
}

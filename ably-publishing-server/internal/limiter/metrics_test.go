package limiter_test

import (
	"testing"
	"time"

	"github.com/ably-fanout/ably-publishing-server/internal/limiter"
	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/redistest"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestLimiterMetrics_CountAdmissionsAndDenials(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	m := metrics.NewPublisher(nil)
	l := newLimiter(t, newClient(t, srv), 3, time.Hour, limiter.WithMetrics(m))

	steps := []struct {
		n            int
		wantAdmitted int
	}{
		{n: 2, wantAdmitted: 2},
		{n: 2, wantAdmitted: 1}, // a partial admission counts as a denial
		{n: 1, wantAdmitted: 0},
	}
	for i, step := range steps {
		admitted, _, err := l.Admit(t.Context(), step.n)
		if err != nil {
			t.Fatalf("step %d: Admit: %v", i, err)
		}
		if admitted != step.wantAdmitted {
			t.Fatalf("step %d: admitted %d, want %d", i, admitted, step.wantAdmitted)
		}
	}

	if got := testutil.ToFloat64(m.LimiterAdmissions); got != 3 {
		t.Errorf("admissions = %v, want 3", got)
	}
	if got := testutil.ToFloat64(m.LimiterDenials); got != 2 {
		t.Errorf("denials = %v, want 2", got)
	}
}

func TestLimiterMetrics_Optional(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	l := newLimiter(t, newClient(t, srv), 1, time.Hour)
	for range 2 {
		if _, _, err := l.Admit(t.Context(), 1); err != nil {
			t.Fatalf("Admit without metrics: %v", err)
		}
	}
}

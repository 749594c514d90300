package metrics

import (
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gather returns the families of reg by name.
func gather(tb testing.TB, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	tb.Helper()
	families, err := reg.Gather()
	if err != nil {
		tb.Fatalf("gather: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range families {
		out[f.GetName()] = f
	}
	return out
}

func discardLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func TestNames_FollowConventions(t *testing.T) {
	cases := []struct {
		service string
		names   []string
		reg     func(*prometheus.Registry)
	}{
		{"trading server", TradingServerNames, func(r *prometheus.Registry) { NewTrading(r) }},
		{"publisher", PublisherNames, func(r *prometheus.Registry) { NewPublisher(r).Retry(0) }},
	}
	for _, tc := range cases {
		t.Run(tc.service, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			tc.reg(reg)
			families := gather(t, reg)
			if len(families) != len(tc.names) {
				t.Errorf("registry has %d families, want the %d listed", len(families), len(tc.names))
			}
			for _, name := range tc.names {
				family, ok := families[name]
				if !ok {
					t.Errorf("%s is listed but not registered", name)
					continue
				}
				if !strings.HasPrefix(name, Namespace+"_") {
					t.Errorf("%s does not start with %s_", name, Namespace)
				}
				isCounter := family.GetType() == dto.MetricType_COUNTER
				if isCounter != strings.HasSuffix(name, "_total") {
					t.Errorf("%s has type %s; only counters end in _total", name, family.GetType())
				}
				if family.GetHelp() == "" {
					t.Errorf("%s has no help text", name)
				}
			}
		})
	}
}

func TestNewPublisher_ReasonsStartAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	p := NewPublisher(reg)
	p.DeadLetter(ReasonMalformed)
	p.DeadLetter(ReasonMalformed)

	family := gather(t, reg)[TradesDeadLettered]
	got := map[string]float64{}
	for _, m := range family.GetMetric() {
		got[labelValue(m, LabelReason)] = m.GetCounter().GetValue()
	}
	for _, reason := range Reasons {
		want := 0.0
		if reason == ReasonMalformed {
			want = 2
		}
		value, ok := got[reason]
		if !ok {
			t.Errorf("reason %q is not exposed", reason)
			continue
		}
		if value != want {
			t.Errorf("reason %q = %v, want %v", reason, value, want)
		}
	}
}

func TestPublisherRetry_LabelsCode(t *testing.T) {
	reg := prometheus.NewRegistry()
	p := NewPublisher(reg)
	p.Retry(42910)
	p.Retry(0)
	p.Retry(42910)

	got := map[string]float64{}
	for _, m := range gather(t, reg)[PublishRetries].GetMetric() {
		got[labelValue(m, LabelCode)] = m.GetCounter().GetValue()
	}
	want := map[string]float64{"42910": 2, CodeNone: 1}
	if len(got) != len(want) {
		t.Errorf("retries by code = %v, want %v", got, want)
	}
	for code, n := range want {
		if got[code] != n {
			t.Errorf("retries with code %s = %v, want %v", code, got[code], n)
		}
	}
}

func TestNewRegistry_IncludesRuntimeCollectors(t *testing.T) {
	families := gather(t, NewRegistry())
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if _, ok := families[name]; !ok {
			t.Errorf("registry does not expose %s", name)
		}
	}
}

func TestScrape_ReadsHandlerOutput(t *testing.T) {
	reg := NewRegistry()
	m := NewPublisher(reg)
	m.Published.Add(7)
	m.Retry(50000)
	m.Retry(50000)
	m.Retry(42910)
	m.DeadLetter(ReasonTooLarge)
	m.PublishDuration.Observe(0.02)
	m.PublishDuration.Observe(0.04)
	m.PublishDuration.Observe(0.08)
	m.Queue.Length.Set(12)
	srv := httptest.NewServer(Handler(reg, discardLogger()))
	t.Cleanup(srv.Close)

	client := &http.Client{Timeout: 10 * time.Second}
	families, err := Scrape(t.Context(), client, srv.URL)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("value", func(t *testing.T) {
		if got := families.Value(TradesPublished); got != 7 {
			t.Errorf("%s = %v, want 7", TradesPublished, got)
		}
		if got := families.Value(PublishRetries); got != 3 {
			t.Errorf("%s summed = %v, want 3", PublishRetries, got)
		}
		if got := families.Value(PublishRetries, LabelCode, "50000"); got != 2 {
			t.Errorf("%s{code=50000} = %v, want 2", PublishRetries, got)
		}
		if got := families.Value(QueueLength); got != 12 {
			t.Errorf("%s = %v, want 12", QueueLength, got)
		}
		if got := families.Value("fanout_missing_total"); got != 0 {
			t.Errorf("missing family = %v, want 0", got)
		}
	})
	t.Run("values by label", func(t *testing.T) {
		byReason := families.ValuesBy(TradesDeadLettered, LabelReason)
		if len(byReason) != len(Reasons) {
			t.Errorf("dead letters by reason = %v, want every one of %v", byReason, Reasons)
		}
		if byReason[ReasonTooLarge] != 1 {
			t.Errorf("dead letters %s = %v, want 1", ReasonTooLarge, byReason[ReasonTooLarge])
		}
	})
	t.Run("sample count", func(t *testing.T) {
		if got := families.SampleCount(PublishDuration); got != 3 {
			t.Errorf("%s count = %d, want 3", PublishDuration, got)
		}
	})
	t.Run("sample sum", func(t *testing.T) {
		if got := families.SampleSum(PublishDuration); math.Abs(got-0.14) > 1e-9 {
			t.Errorf("%s sum = %v, want 0.14", PublishDuration, got)
		}
		if got := families.SampleSum("fanout_missing_seconds"); got != 0 {
			t.Errorf("missing family sum = %v, want 0", got)
		}
	})
	t.Run("series names", func(t *testing.T) {
		names := families.SeriesNames()
		for _, want := range []string{PublishDuration + "_bucket", PublishDuration + "_count", PublishDuration + "_sum", TradesPublished, "go_goroutines", "process_cpu_seconds_total"} {
			if !slices.Contains(names, want) {
				t.Errorf("series names do not contain %s", want)
			}
		}
		if slices.Contains(names, PublishDuration) {
			t.Errorf("series names contain the bare histogram name %s, which PromQL cannot select", PublishDuration)
		}
	})
}

func TestScrape_RejectsErrorStatus(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	_, err := Scrape(t.Context(), &http.Client{Timeout: 10 * time.Second}, srv.URL)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("scrape of a 404 page: error = %v, want one naming the status", err)
	}
}

func TestParseText_RejectsGarbage(t *testing.T) {
	if _, err := ParseText(strings.NewReader("this is { not metrics\n")); err == nil {
		t.Error("ParseText accepted text that is not the exposition format")
	}
}

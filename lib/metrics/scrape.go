package metrics

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families is one scrape of a /metrics endpoint: the metric families by
// name, as in the text exposition format, so counters keep their _total.
type Families map[string]*dto.MetricFamily

// maxScrapeBytes bounds the body Scrape reads. The publisher's /metrics
// was about 13 KB with client_golang v1.25.0 on linux/amd64.
const maxScrapeBytes = 16 << 20

// Scrape fetches url, such as http://127.0.0.1:8090/metrics, in the text
// exposition format and parses it.
func Scrape(ctx context.Context, client *http.Client, url string) (Families, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxScrapeBytes))
		return nil, fmt.Errorf("scrape %s: status %s", url, resp.Status)
	}
	families, err := ParseText(io.LimitReader(resp.Body, maxScrapeBytes))
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	return families, nil
}

// ParseText parses the Prometheus text exposition format.
func ParseText(r io.Reader) (Families, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return Families(families), nil
}

// Has reports whether the scrape contains the family name.
func (f Families) Has(name string) bool {
	_, ok := f[name]
	return ok
}

// Value returns the sum over the series of the counter, gauge or untyped
// family name whose labels include every pair of labelPairs, given as
// name, value, name, value. It returns 0 when nothing matches.
func (f Families) Value(name string, labelPairs ...string) float64 {
	family, ok := f[name]
	if !ok {
		return 0
	}
	var sum float64
	for _, m := range family.GetMetric() {
		if !hasLabels(m, labelPairs) {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			sum += m.GetGauge().GetValue()
		case m.GetUntyped() != nil:
			sum += m.GetUntyped().GetValue()
		}
	}
	return sum
}

// ValuesBy returns the values of the counter or gauge family name summed
// by the value of label.
func (f Families) ValuesBy(name, label string) map[string]float64 {
	out := map[string]float64{}
	family, ok := f[name]
	if !ok {
		return out
	}
	for _, m := range family.GetMetric() {
		value := labelValue(m, label)
		switch {
		case m.GetCounter() != nil:
			out[value] += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			out[value] += m.GetGauge().GetValue()
		}
	}
	return out
}

// SampleCount returns the number of observations of the histogram or
// summary family name, summed over its series.
func (f Families) SampleCount(name string) uint64 {
	family, ok := f[name]
	if !ok {
		return 0
	}
	var n uint64
	for _, m := range family.GetMetric() {
		switch {
		case m.GetHistogram() != nil:
			n += m.GetHistogram().GetSampleCount()
		case m.GetSummary() != nil:
			n += m.GetSummary().GetSampleCount()
		}
	}
	return n
}

// SampleSum returns the sum of the observations of the histogram or
// summary family name, over its series.
func (f Families) SampleSum(name string) float64 {
	family, ok := f[name]
	if !ok {
		return 0
	}
	var sum float64
	for _, m := range family.GetMetric() {
		switch {
		case m.GetHistogram() != nil:
			sum += m.GetHistogram().GetSampleSum()
		case m.GetSummary() != nil:
			sum += m.GetSummary().GetSampleSum()
		}
	}
	return sum
}

// SeriesNames returns the sorted metric names that PromQL can select from
// this scrape: a histogram family adds the names with _bucket, _sum and
// _count, and a summary family its own name with _sum and _count.
func (f Families) SeriesNames() []string {
	var names []string
	for name, family := range f {
		switch family.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			names = append(names, name+"_bucket", name+"_sum", name+"_count")
		case dto.MetricType_SUMMARY:
			names = append(names, name, name+"_sum", name+"_count")
		default:
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		if labelValue(m, pairs[i]) != pairs[i+1] {
			return false
		}
	}
	return true
}

func labelValue(m *dto.Metric, name string) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

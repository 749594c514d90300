package deployments

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/redistest"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

const dashboardFile = "deployments/grafana-dashboard.json"

// dashboard is the part of a Grafana dashboard model that the tests read.
type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query string `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	// Panels holds the panels of a collapsed row.
	Panels []panel `json:"panels"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// datasourceVariable is the reference to the dashboard's data source
// variable, which lets the importer choose a Prometheus data source.
const datasourceVariable = "${datasource}"

func loadDashboard(tb testing.TB) dashboard {
	tb.Helper()
	var d dashboard
	if err := json.Unmarshal(readRepoFile(tb, dashboardFile), &d); err != nil {
		tb.Fatalf("decode %s: %v", dashboardFile, err)
	}
	return d
}

// queryPanels returns every panel that runs queries, rows left out and the
// panels of collapsed rows included.
func (d dashboard) queryPanels() []panel {
	var out []panel
	for _, p := range d.Panels {
		if p.Type == "row" {
			out = append(out, p.Panels...)
			continue
		}
		out = append(out, p)
	}
	return out
}

// grafanaVariables replaces the variables Grafana fills in before it
// sends a query, with values of the same kind, so that the PromQL parser
// accepts the expression.
var grafanaVariables = strings.NewReplacer(
	"$__rate_interval", "1m",
	"$__interval", "15s",
	"$__range", "1h",
)

// selectedMetrics parses expr and returns the metric names it selects.
func selectedMetrics(expr string) ([]string, error) {
	p := parser.NewParser(parser.Options{})
	parsed, err := p.ParseExpr(grafanaVariables.Replace(expr))
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(parsed, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		if vs.Name != "" {
			names = append(names, vs.Name)
			return nil
		}
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				names = append(names, m.Value)
			}
		}
		return nil
	})
	if len(names) == 0 {
		return nil, fmt.Errorf("selects no metric by name")
	}
	return names, nil
}

// dashboardMetrics returns the metric names the dashboard queries, each
// with the title of a panel that queries it.
func dashboardMetrics(tb testing.TB, d dashboard) map[string]string {
	tb.Helper()
	used := map[string]string{}
	for _, p := range d.queryPanels() {
		for _, target := range p.Targets {
			names, err := selectedMetrics(target.Expr)
			if err != nil {
				tb.Errorf("panel %q query %s %q: %v", p.Title, target.RefID, target.Expr, err)
				continue
			}
			for _, name := range names {
				used[name] = p.Title
			}
		}
	}
	return used
}

func TestDashboard_IsImportable(t *testing.T) {
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("dashboard uid %q and title %q, want both set", d.UID, d.Title)
	}
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d, want 36 or later, which reference data sources by uid", d.SchemaVersion)
	}

	found := false
	for _, v := range d.Templating.List {
		if v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus" {
			found = true
		}
	}
	if !found {
		t.Errorf("templating has no variable datasource of type datasource with query prometheus: %+v", d.Templating.List)
	}

	ids := map[int]string{}
	for _, p := range d.Panels {
		if other, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", other, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		if p.GridPos.W < 1 || p.GridPos.X < 0 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H < 1 {
			t.Errorf("panel %q gridPos %+v is outside the 24-column grid", p.Title, p.GridPos)
		}
	}

	panels := d.queryPanels()
	if len(panels) < 10 {
		t.Fatalf("dashboard has %d query panels, want at least 10", len(panels))
	}
	for _, p := range panels {
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != datasourceVariable {
			t.Errorf("panel %q data source %+v, want prometheus %s", p.Title, p.Datasource, datasourceVariable)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no queries", p.Title)
		}
		refs := map[string]bool{}
		for _, target := range p.Targets {
			if target.RefID == "" || refs[target.RefID] {
				t.Errorf("panel %q has a query with refId %q, want unique and set", p.Title, target.RefID)
			}
			refs[target.RefID] = true
			if target.Datasource != nil && target.Datasource.UID != datasourceVariable {
				t.Errorf("panel %q query %s data source uid %q, want %s", p.Title, target.RefID, target.Datasource.UID, datasourceVariable)
			}
		}
	}
}

func TestDashboard_ShowsEveryProjectMetric(t *testing.T) {
	used := dashboardMetrics(t, loadDashboard(t))
	want := slices.Concat(metrics.TradingServerNames, metrics.PublisherNames)
	for _, name := range want {
		// A histogram is queried through its _bucket, _sum or _count series.
		forms := []string{name, name + "_bucket", name + "_sum", name + "_count"}
		if !slices.ContainsFunc(forms, func(form string) bool { _, ok := used[form]; return ok }) {
			t.Errorf("no panel queries %s", name)
		}
	}
}

func TestSelectedMetrics_ReadsPromQL(t *testing.T) {
	cases := []struct {
		name string
		expr string
		want []string
	}{
		{"rate interval variable", "sum(rate(fanout_trades_published_total[$__rate_interval]))", []string{"fanout_trades_published_total"}},
		{"histogram quantile", `histogram_quantile(0.99, sum by (le) (rate(fanout_publish_duration_seconds_bucket{job="x"}[5m])))`, []string{"fanout_publish_duration_seconds_bucket"}},
		{"name matcher and set operator", `{__name__="fanout_queue_length"} and on (instance) go_goroutines`, []string{"fanout_queue_length", "go_goroutines"}},
		{"range variable", "sum(increase(fanout_trades_produced_total[$__range])) / 2", []string{"fanout_trades_produced_total"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := selectedMetrics(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("selected metrics = %v, want %v", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"sum(rate(fanout_x_total[5m]", "vector(1)"} {
		if _, err := selectedMetrics(bad); err == nil {
			t.Errorf("selectedMetrics(%q) returned no error", bad)
		}
	}
}

// runningProgram is a service binary started by a test.
type runningProgram struct {
	url     string
	logPath string
}

// startProgram runs the compiled program with env in an empty folder, so
// that no .env file is read, and stops it with SIGTERM when the test ends.
// It waits until /readyz returns 200.
func startProgram(tb testing.TB, program string, env map[string]string) runningProgram {
	tb.Helper()
	addr := loopbackAddr(freePort(tb))

	cmd := exec.Command(programPath(tb, program))
	cmd.Dir = tb.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HTTP_ADDR=" + addr, "LOG_FORMAT=json"}
	for name, value := range env {
		cmd.Env = append(cmd.Env, name+"="+value)
	}
	logPath := filepath.Join(tb.TempDir(), program+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatalf("create log: %v", err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", program, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	tb.Cleanup(func() {
		defer logFile.Close()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-exited
			tb.Errorf("%s did not exit within %s of SIGTERM", program, stopTimeout)
		}
		if tb.Failed() {
			tb.Logf("%s log:\n%s", program, tail(logPath))
		}
	})

	url := "http://" + addr
	if got := waitForStatus(tb, url+"/readyz", http.StatusOK, readyTimeout); got.status != http.StatusOK {
		tb.Fatalf("%s /readyz = %d %q (%v), want 200; log:\n%s", program, got.status, got.body, got.err, tail(logPath))
	}
	return runningProgram{url: url, logPath: logPath}
}

func scrapeProgram(tb testing.TB, p runningProgram) metrics.Families {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	defer cancel()
	families, err := metrics.Scrape(ctx, http.DefaultClient, p.url+"/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	return families
}

// waitForMetric scrapes p until cond holds for the scrape or timeout
// passes, and returns the last scrape.
func waitForMetric(tb testing.TB, p runningProgram, what string, cond func(metrics.Families) bool) metrics.Families {
	tb.Helper()
	deadline := time.Now().Add(deliveryTimeout)
	for {
		families := scrapeProgram(tb, p)
		if cond(families) {
			return families
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s; log:\n%s", deliveryTimeout, what, tail(p.logPath))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestDashboard_QueriesOnlyExposedMetrics(t *testing.T) {
	const (
		queueKey = "dashboard"
		channel  = "dashboard-trades"
		trades   = 40
	)
	redis := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	// The first two publishes fail with a server error, so the publisher
	// retries and the retry counter gets a code label.
	if err := emu.Server.AddFault(emulator.Fault{Channel: channel, Status: 503, Count: 2}); err != nil {
		t.Fatalf("add fault: %v", err)
	}
	// Entries that are no trade, so the dead-letter counter rises.
	if err := redis.Client().RPush(t.Context(), keys.Queue(queueKey), "not json", `{"id":"x"}`).Err(); err != nil {
		t.Fatalf("push malformed entries: %v", err)
	}

	publisher := startProgram(t, "ably-publishing-server", map[string]string{
		"REDIS_URL":     redis.URL(),
		"QUEUE_KEY":     queueKey,
		"CHANNEL_NAME":  channel,
		"ABLY_KEY":      emu.Key,
		"ABLY_ENDPOINT": emu.URL,
		"REPLICA_ID":    "dashboard-1",
		"RATE_LIMIT":    "100",
	})
	trading := startProgram(t, "trading-server", map[string]string{
		"REDIS_URL":    redis.URL(),
		"QUEUE_KEY":    queueKey,
		"MODE":         "burst",
		"PUBLISH_RATE": strconv.Itoa(trades),
		// One burst at the start, and the next an hour later, so that the
		// server runs on with a known count.
		"BURST_INTERVAL": "1h",
		"PRODUCER_ID":    "dashboard",
	})

	publisherFamilies := waitForMetric(t, publisher, "every trade to be published", func(f metrics.Families) bool {
		return f.Value(metrics.TradesPublished) == trades
	})
	tradingFamilies := scrapeProgram(t, trading)

	t.Run("traffic", func(t *testing.T) {
		if got := tradingFamilies.Value(metrics.TradesProduced); got != trades {
			t.Errorf("%s = %v, want %d", metrics.TradesProduced, got, trades)
		}
		if got := publisherFamilies.Value(metrics.PublishRetries, metrics.LabelCode, "50300"); got != 2 {
			t.Errorf("%s{code=50300} = %v, want the 2 injected failures", metrics.PublishRetries, got)
		}
		if got := publisherFamilies.Value(metrics.TradesDeadLettered, metrics.LabelReason, metrics.ReasonMalformed); got != 2 {
			t.Errorf("%s{reason=malformed} = %v, want 2", metrics.TradesDeadLettered, got)
		}
		// The publisher batches, so the trades take few publish requests:
		// the 2 that failed and at least one that Ably accepted.
		if got := publisherFamilies.SampleCount(metrics.PublishDuration); got < 3 {
			t.Errorf("%s count = %d, want at least 3 publishes", metrics.PublishDuration, got)
		}
		if got := publisherFamilies.SampleSum(metrics.PublishBatchSize); got < trades {
			t.Errorf("%s sum = %v, want at least the %d trades", metrics.PublishBatchSize, got, trades)
		}
	})

	exposed := map[string]bool{}
	for _, name := range slices.Concat(tradingFamilies.SeriesNames(), publisherFamilies.SeriesNames()) {
		exposed[name] = true
	}
	used := dashboardMetrics(t, loadDashboard(t))
	for _, name := range slices.Sorted(maps.Keys(used)) {
		if !exposed[name] {
			t.Errorf("panel %q queries %s, which neither service exposes", used[name], name)
		}
	}
	if t.Failed() {
		t.Logf("exposed series: %v", slices.Sorted(maps.Keys(exposed)))
	}
}

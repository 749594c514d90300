package metrics

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry with the Go runtime and process
// collectors, for one service. Each service builds its own registry
// instead of using the global default, so that tests can run several in
// one process.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// Handler serves the metrics of reg in the Prometheus exposition formats.
// A collector that fails is logged at warn level, and the response then
// holds the metrics that could be gathered.
func Handler(reg *prometheus.Registry, logger *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          errorLog{logger: logger},
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          reg,
		EnableOpenMetrics: true,
	})
}

// errorLog adapts slog to promhttp's Println logger.
type errorLog struct {
	logger *slog.Logger
}

func (l errorLog) Println(v ...any) {
	l.logger.Warn("serve metrics failed", slog.String("error", fmt.Sprint(v...)))
}

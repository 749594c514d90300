// Command devstack runs the whole pipeline on this machine for make run:
// Redis, the Ably emulator (or real Ably when ABLY_KEY is set), the trading
// server, publisher replicas and a web server for the browser client. It
// prints the client's address and a status line every second, and on
// Ctrl-C stops everything it started and prints a summary of the run.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/lib/envconfig"
)

type config struct {
	redisURL  string
	ablyKey   string
	replicas  int
	rateLimit int
	webAddr   string
	runDir    string
	queueKey  string
	channel   string
}

func main() {
	os.Exit(run())
}

func run() int {
	var c config
	set := envconfig.New("devstack", "run the whole trade fan-out pipeline locally")
	set.URL(&c.redisURL, "REDIS_URL", []string{"redis", "rediss"},
		"Redis to use (default: start redis-server if installed, else an embedded Redis)")
	set.Secret(&c.ablyKey, "ABLY_KEY", "Ably API key: publish to real Ably instead of the local emulator")
	set.Int(&c.replicas, "REPLICAS", 3, 1, 32, "number of publisher replicas")
	set.Int(&c.rateLimit, "RATE_LIMIT", 50, 1, 100000, "messages per second all publishers together may send")
	set.String(&c.webAddr, "WEB_ADDR", "127.0.0.1:8000", "address that serves the browser client")
	set.String(&c.runDir, "RUN_DIR", "artifacts/run", "folder for the processes' logs and Redis's data")
	set.String(&c.queueKey, "QUEUE_KEY", "myJobQueue", "Redis list that holds the trades")
	set.String(&c.channel, "CHANNEL_NAME", "trades", "Ably channel the trades are published to")
	if err := set.ParseProcess(); err != nil {
		if errors.Is(err, envconfig.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "devstack:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runStack(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		// A service that rejected its settings exits with 2, and so does
		// devstack, as for its own settings.
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 2 {
			return 2
		}
		return 1
	}
	return 0
}

func runStack(ctx context.Context, c config) error {
	root, err := stack.FindRepoRoot(".")
	if err != nil {
		return err
	}
	runDir := c.runDir
	if !filepath.IsAbs(runDir) {
		runDir = filepath.Join(root, runDir)
	}
	fmt.Println("building the services...")
	bin, err := stack.Build(ctx, root, filepath.Join(root, "bin"))
	if err != nil {
		return err
	}
	if err := stack.CheckAblyJS(root); err != nil {
		fmt.Println("note:", err)
	}
	webAddr := c.webAddr
	if !stack.AddrFree(webAddr) {
		fmt.Printf("note: %s is taken, serving the client on a free port instead\n", webAddr)
		webAddr = ""
	}
	fmt.Println("starting Redis, the Ably emulator, the publishers and the trading server...")
	s, err := stack.Start(ctx, stack.Options{
		RepoRoot:  root,
		Bin:       bin,
		RunDir:    runDir,
		RedisURL:  c.redisURL,
		AblyKey:   c.ablyKey,
		Replicas:  c.replicas,
		QueueKey:  c.queueKey,
		Channel:   c.channel,
		RateLimit: c.rateLimit,
		WebAddr:   webAddr,
	})
	if err != nil {
		return err
	}
	printBanner(s, runDir)
	return watchAndStop(ctx, s)
}

// watchAndStop shows the status every second until ctx ends, then stops
// the stack and prints the summary of the run.
func watchAndStop(ctx context.Context, s *stack.Stack) error {
	sampler, err := s.NewSampler()
	if err != nil {
		return errors.Join(err, s.Stop())
	}
	defer sampler.Close()

	record := watch(ctx, s, sampler, newStatusWriter(os.Stdout))
	fmt.Println("stopping...")
	stopErr := s.Stop()

	writeSummary(os.Stdout, summaryInput{
		record:    record,
		rateLimit: s.Options().RateLimit,
		emulator:  s.EmulatorURL != "",
	})
	return stopErr
}

func printBanner(s *stack.Stack, runDir string) {
	ably := "the local Ably emulator at " + s.EmulatorURL
	if s.EmulatorURL == "" {
		ably = "real Ably (ABLY_KEY is set)"
	}
	fmt.Printf("\nRedis: %s (%s)\nAbly: %s\nPublishers: %d, limit %d messages/s\nLogs: %s\n",
		s.Redis.URL, s.Redis.Kind, ably, len(s.Publishers), s.Options().RateLimit, runDir)
	label := "Metrics:"
	if s.TradingURL != "" {
		fmt.Printf("%-9s %s/metrics (trading-server)\n", label, s.TradingURL)
		label = ""
	}
	for _, p := range s.Publishers {
		fmt.Printf("%-9s %s/metrics (%s)\n", label, p.URL, p.ID)
		label = ""
	}
	fmt.Printf("\nOpen the client: %s\n\nPress Ctrl-C to stop.\n\n", s.ClientURL())
	fmt.Println("Every second: queue length | published per second | use of the rate limit")
	fmt.Println("in the last second | publish retries | entries in the dead-letter list")
}

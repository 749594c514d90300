package deployments

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// repoRoot returns the repository root: the parent of this module's folder,
// which holds go.work.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		tb.Fatalf("find repository root: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		tb.Fatalf("find repository root: %v", err)
	}
	return root
}

// readRepoFile returns the content of a file given relative to the
// repository root.
func readRepoFile(tb testing.TB, rel string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(tb), rel))
	if err != nil {
		tb.Fatalf("read %s: %v", rel, err)
	}
	return data
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// httpResult is the outcome of one GET.
type httpResult struct {
	status int
	body   string
	err    error
}

// getOnce sends one GET with a short timeout.
func getOnce(ctx context.Context, url string) httpResult {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return httpResult{err: err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return httpResult{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return httpResult{status: resp.StatusCode, body: string(body), err: err}
}

// waitForStatus repeats GET url until it returns want or timeout passes,
// and returns the last result.
func waitForStatus(tb testing.TB, url string, want int, timeout time.Duration) httpResult {
	tb.Helper()
	ctx := tb.Context()
	deadline := time.Now().Add(timeout)
	var last httpResult
	for attempt := 0; attempt < 1000; attempt++ {
		last = getOnce(ctx, url)
		if last.err == nil && last.status == want {
			return last
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return last
}

// loopbackAddr returns 127.0.0.1:port.
func loopbackAddr(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

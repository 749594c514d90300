package browser_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ably-fanout/devstack/stack"
)

// repoRoot returns the repository root, the folder that holds go.work.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := stack.FindRepoRoot(".")
	if err != nil {
		tb.Fatalf("find repository root: %v", err)
	}
	return root
}

// requireAblyJS fails the test unless npm installed ably-js at the root.
func requireAblyJS(tb testing.TB, root string) {
	tb.Helper()
	if err := stack.CheckAblyJS(root); err != nil {
		tb.Fatalf("%v; the tests load the real ably-js from there", err)
	}
}

// serveClient starts an HTTP server on 127.0.0.1 with the page, its
// scripts and /ably.min.js, plus the extra routes, and returns its base URL.
func serveClient(tb testing.TB, root string, extra map[string]http.Handler) string {
	tb.Helper()
	mux := http.NewServeMux()
	mux.Handle("/", stack.WebHandler(root))
	for pattern, handler := range extra {
		mux.Handle(pattern, handler)
	}
	server := httptest.NewServer(mux)
	tb.Cleanup(server.Close)
	return server.URL
}

package stack

import (
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// AblyJSPath is the path of the browser build of ably-js that npm installs,
// relative to the repository root.
const AblyJSPath = "node_modules/ably/build/ably.min.js"

// ErrNoAblyJS means the local copy of ably-js is missing, so the page falls
// back to Ably's CDN.
var ErrNoAblyJS = errors.New(AblyJSPath + " is missing (run make deps); the page will load ably-js from Ably's CDN")

// WebHandler serves the browser client from repoRoot/client and the local
// copy of ably-js as /ably.min.js.
func WebHandler(repoRoot string) http.Handler {
	mux := http.NewServeMux()
	clientDir := http.Dir(filepath.Join(repoRoot, "client"))
	mux.Handle("GET /", http.FileServer(clientDir))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		target := "/client.html"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusFound)
	})
	mux.HandleFunc("GET /ably.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(repoRoot, AblyJSPath))
	})
	return mux
}

// CheckAblyJS returns ErrNoAblyJS when the local copy of ably-js is missing.
func CheckAblyJS(repoRoot string) error {
	if _, err := os.Stat(filepath.Join(repoRoot, AblyJSPath)); err != nil {
		return ErrNoAblyJS
	}
	return nil
}

// serveWeb starts the web server on addr and returns it with the address it
// bound.
func serveWeb(addr string, h http.Handler) (*http.Server, string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return srv, l.Addr().String(), nil
}

package publish

import (
	"io"
	"net/http"
	"time"
)

// maxDrainBytes bounds how much of an unread response body Close reads
// before it closes the body. A publish response is a few hundred bytes;
// a longer body closes the connection instead of delaying the caller.
const maxDrainBytes = 64 * 1024

// maxIdleConnsPerHost is how many idle connections the client keeps to
// Ably. Each publisher goroutine holds at most one request in flight, so
// a handful covers a replica.
const maxIdleConnsPerHost = 8

// newHTTPClient returns the HTTP client that ably-go uses for every
// request, with timeout on each request.
//
// ably-go v1.4.1 closes the body of a publish response without reading
// it. Go's HTTP client reuses a connection only when the body was read to
// the end, so each publish would open a new connection, and against Ably
// a new TLS session. The transport here reads what is left of a response
// body when it is closed, so that requests share keep-alive connections.
func newHTTPClient(timeout time.Duration) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = maxIdleConnsPerHost
	return &http.Client{
		Timeout:   timeout,
		Transport: drainingTransport{next: transport},
	}
}

// drainingTransport is an http.RoundTripper whose response bodies are read
// to the end, up to maxDrainBytes, when they are closed.
type drainingTransport struct {
	next http.RoundTripper
}

func (t drainingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.Body == nil || resp.Body == http.NoBody {
		return resp, err
	}
	resp.Body = &drainingBody{ReadCloser: resp.Body}
	return resp, nil
}

// drainingBody reads the rest of the body in Close.
type drainingBody struct {
	io.ReadCloser
}

func (b *drainingBody) Close() error {
	_, _ = io.Copy(io.Discard, io.LimitReader(b.ReadCloser, maxDrainBytes))
	return b.ReadCloser.Close()
}

package browser

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// response is the fixed response that Fulfill registered for one URL.
type response struct {
	contentType string
	body        []byte
}

// Fulfill responds to every request of the tab for exactly url with status 200,
// the content type and the body, so the request never reaches the network.
// Tests use it to stand in for a host that is out of reach, such as Ably's
// CDN. Call it before Open. Later calls add URLs.
func (p *Page) Fulfill(tb testing.TB, url, contentType string, body []byte) {
	tb.Helper()
	p.interceptMu.Lock()
	if p.responses == nil {
		p.responses = make(map[string]response)
		p.interceptDone = make(chan struct{})
		go p.serveInterceptedRequests()
	}
	p.responses[url] = response{contentType: contentType, body: body}
	patterns := make([]*fetch.RequestPattern, 0, len(p.responses))
	for registered := range p.responses {
		patterns = append(patterns, &fetch.RequestPattern{URLPattern: escapeURLPattern(registered)})
	}
	p.interceptMu.Unlock()

	if _, err := chromedp.Call(p.ctx, fetch.Enable, fetch.EnableParams{Patterns: patterns}); err != nil {
		tb.Fatalf("intercept %s: %v", url, err)
	}
}

// serveInterceptedRequests responds to paused requests until the tab closes.
// It cannot fail the test from its goroutine, so it records errors for
// close to report.
func (p *Page) serveInterceptedRequests() {
	defer close(p.interceptDone)
	for event, err := range chromedp.Events(p.ctx, fetch.RequestPaused) {
		if err != nil {
			return
		}
		p.interceptMu.Lock()
		fixed, ok := p.responses[event.Request.URL]
		p.interceptMu.Unlock()

		if !ok {
			_, err = chromedp.Call(p.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: event.RequestID})
		} else {
			_, err = chromedp.Call(p.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
				RequestID:    event.RequestID,
				ResponseCode: 200,
				ResponseHeaders: []*fetch.HeaderEntry{
					{Name: "Content-Type", Value: fixed.contentType},
					{Name: "Access-Control-Allow-Origin", Value: "*"},
				},
				Body: fixed.body,
			})
		}
		if err != nil && p.ctx.Err() == nil {
			p.interceptMu.Lock()
			p.interceptErrors = append(p.interceptErrors, err)
			p.interceptMu.Unlock()
		}
	}
}

// escapeURLPattern escapes the wildcards of the Fetch domain's URL pattern,
// '*' and '?', and its escape character '\', so the pattern matches only url.
func escapeURLPattern(url string) string {
	replacer := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`)
	return replacer.Replace(url)
}

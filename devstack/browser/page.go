package browser

import (
	"context"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultTimeout bounds each wait and action of a Page. It only stops a hung
// test, so it is generous.
const DefaultTimeout = 60 * time.Second

// Page is one browser tab. Its methods fail the test or subtest given as tb
// on error, so call them from that test's goroutine.
type Page struct {
	// Timeout bounds each wait and action. Default DefaultTimeout.
	Timeout time.Duration

	owner  testing.TB // the test whose end closes the tab
	ctx    context.Context
	cancel context.CancelFunc

	consoleMu   sync.Mutex
	console     []chromedp.ConsoleMessage
	consoleDone chan struct{}

	interceptMu     sync.Mutex
	responses       map[string]response // by exact URL, nil until Fulfill
	interceptDone   chan struct{}       // closed when the Fulfill goroutine ends
	interceptErrors []error
}

// NewPage opens a tab with the viewport and returns it. The tab closes when
// the test tb ends. If that test failed, the tab's console messages are
// logged.
func (b *Browser) NewPage(tb testing.TB, viewport Viewport) *Page {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	p := &Page{
		Timeout:     DefaultTimeout,
		owner:       tb,
		ctx:         ctx,
		cancel:      cancel,
		consoleDone: make(chan struct{}),
	}
	// Opening the tab happens on its first Run, so do that before any
	// subscription and before registering the cleanup that closes it.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		tb.Fatalf("open tab: %v", err)
	}
	messages := chromedp.Console(ctx)
	go p.collectConsole(messages)
	tb.Cleanup(p.close)

	p.SetViewport(tb, viewport)
	return p
}

// close closes the tab, waits for the goroutines that end with its context,
// reports failed interceptions, and logs the console of a failed test.
func (p *Page) close() {
	p.cancel()
	<-p.consoleDone
	p.interceptMu.Lock()
	interceptDone := p.interceptDone
	p.interceptMu.Unlock()
	if interceptDone != nil {
		<-interceptDone
	}
	for _, err := range p.interceptErrors {
		p.owner.Errorf("respond to intercepted request: %v", err)
	}
	if !p.owner.Failed() {
		return
	}
	for _, message := range p.ConsoleMessages() {
		p.owner.Logf("browser console: %s %s:%d: %s", message.Type, message.URL, message.Line+1, message.Text)
	}
}

func (p *Page) collectConsole(messages iter.Seq2[chromedp.ConsoleMessage, error]) {
	defer close(p.consoleDone)
	for message, err := range messages {
		if err != nil {
			return
		}
		p.consoleMu.Lock()
		p.console = append(p.console, message)
		p.consoleMu.Unlock()
	}
}

// ConsoleMessages returns a copy of the console messages, uncaught
// exceptions and browser log entries (such as Content-Security-Policy
// violations) that the tab produced so far.
func (p *Page) ConsoleMessages() []chromedp.ConsoleMessage {
	p.consoleMu.Lock()
	defer p.consoleMu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), p.console...)
}

// Context returns the tab's chromedp context, for actions that Page has no
// method for. Bound each use with a timeout derived from it.
func (p *Page) Context() context.Context {
	return p.ctx
}

// do runs the actions with the page timeout.
func (p *Page) do(actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(p.ctx, p.Timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// Open navigates the tab to url and waits for the load event.
func (p *Page) Open(tb testing.TB, url string) {
	tb.Helper()
	if err := p.do(chromedp.Navigate(url)); err != nil {
		tb.Fatalf("open %s: %v", url, err)
	}
}

// Eval evaluates the JavaScript expression in the page and decodes its
// result into T, as chromedp.Evaluate does. A promise result is awaited.
func Eval[T any](tb testing.TB, p *Page, expression string) T {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.Timeout)
	defer cancel()
	value, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.Fatalf("evaluate %s: %v", expression, err)
	}
	return value
}

package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pollInterval is how often a wait evaluates its condition in the page.
const pollInterval = 50 * time.Millisecond

// Page functions evaluated with arguments. Each reads the elements that a CSS
// selector matches. A missing element reads as null or 0.
const (
	textFunction  = `(selector) => { const el = document.querySelector(selector); return el === null ? null : el.textContent.trim(); }`
	countFunction = `(selector) => document.querySelectorAll(selector).length`
)

// poll waits until the page function, called with args, returns a truthy
// value, or the page timeout ends.
func (p *Page) poll(function string, args ...any) error {
	ctx, cancel := context.WithTimeout(p.ctx, p.Timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.PollFunction[chromedp.Void](function,
		chromedp.WithPollingInterval(pollInterval),
		chromedp.WithPollingTimeout(p.Timeout),
		chromedp.WithPollingArgs(args...),
	))
	return err
}

// call evaluates the page function called with args, each encoded as a
// JSON literal, and decodes the result into T.
func call[T any](p *Page, function string, args ...any) (T, error) {
	var zero T
	encoded := make([]string, len(args))
	for i, arg := range args {
		literal, err := json.Marshal(arg)
		if err != nil {
			return zero, fmt.Errorf("encode argument %d: %w", i, err)
		}
		encoded[i] = string(literal)
	}
	expression := "(" + function + ")(" + strings.Join(encoded, ", ") + ")"
	ctx, cancel := context.WithTimeout(p.ctx, p.Timeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expression))
}

// WaitFor waits until the JavaScript expression is truthy in the page.
// description names the condition in the failure message.
func (p *Page) WaitFor(tb testing.TB, description, expression string) {
	tb.Helper()
	if err := p.poll(`() => (` + expression + `)`); err != nil {
		tb.Fatalf("wait for %s (%s): %v", description, expression, err)
	}
}

// WaitVisible waits until the selector matches an element that has a layout
// box, so it is neither display:none nor detached.
func (p *Page) WaitVisible(tb testing.TB, selector string) {
	tb.Helper()
	function := `(selector) => { const el = document.querySelector(selector); return el !== null && el.getClientRects().length > 0; }`
	if err := p.poll(function, selector); err != nil {
		tb.Fatalf("wait for %s to be visible: %v", selector, err)
	}
}

// WaitText waits until the trimmed text of the first element that the
// selector matches equals want.
func (p *Page) WaitText(tb testing.TB, selector, want string) {
	tb.Helper()
	function := `(selector, want) => { const el = document.querySelector(selector); return el !== null && el.textContent.trim() === want; }`
	if err := p.poll(function, selector, want); err != nil {
		tb.Fatalf("wait for %s text %q: %v; text is %s", selector, want, err, p.describeText(selector))
	}
}

// WaitCount waits until the selector matches exactly want elements.
func (p *Page) WaitCount(tb testing.TB, selector string, want int) {
	tb.Helper()
	function := `(selector, want) => document.querySelectorAll(selector).length === want`
	if err := p.poll(function, selector, want); err != nil {
		tb.Fatalf("wait for %d elements %s: %v; found %s", want, selector, err, p.describeCount(selector))
	}
}

// Text returns the trimmed text content of the first element that the
// selector matches, failing the test when none does.
func (p *Page) Text(tb testing.TB, selector string) string {
	tb.Helper()
	text, ok, err := p.text(selector)
	if err != nil {
		tb.Fatalf("read text of %s: %v", selector, err)
	}
	if !ok {
		tb.Fatalf("read text of %s: no element matches", selector)
	}
	return text
}

// Count returns how many elements the selector matches.
func (p *Page) Count(tb testing.TB, selector string) int {
	tb.Helper()
	count, err := call[int](p, countFunction, selector)
	if err != nil {
		tb.Fatalf("count %s: %v", selector, err)
	}
	return count
}

// text returns the trimmed text of the first match, and false when nothing
// matches.
func (p *Page) text(selector string) (string, bool, error) {
	text, err := call[*string](p, textFunction, selector)
	if err != nil {
		return "", false, err
	}
	if text == nil {
		return "", false, nil
	}
	return *text, true, nil
}

// describeText returns the quoted text of selector for a failure message, or
// why it could not be read.
func (p *Page) describeText(selector string) string {
	text, ok, err := p.text(selector)
	switch {
	case err != nil:
		return "unreadable: " + err.Error()
	case !ok:
		return "missing: no element matches"
	default:
		return strconv.Quote(text)
	}
}

// describeCount returns the number of matches of selector for a failure
// message, or why it could not be counted.
func (p *Page) describeCount(selector string) string {
	count, err := call[int](p, countFunction, selector)
	if err != nil {
		return "none (unreadable: " + err.Error() + ")"
	}
	return strconv.Itoa(count)
}

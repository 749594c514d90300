// Package route maps a trade to its Ably channel from the CHANNEL_NAME
// template: a plain name such as "trades" sends every trade to one
// channel, and a name with fields such as "trades:{symbol}" sends each
// trade to the channel that its fields name.
package route

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ably-fanout/lib/trade"
)

// ErrInvalidTemplate means a channel template has an unknown field, an
// unclosed brace or no text.
var ErrInvalidTemplate = errors.New("invalid channel template")

// fields are the trade fields a template can name. Both are restricted by
// trade.Validate to characters that Ably allows in channel names.
var fields = map[string]func(trade.Trade) string{
	"symbol": func(t trade.Trade) string { return t.Symbol },
	"side":   func(t trade.Trade) string { return t.Side },
}

// Router returns the channel of each trade.
type Router struct {
	template string
	// parts alternate literal text and field names: parts[0] is text,
	// parts[1] a field, parts[2] text, and so on.
	parts []string
}

// New parses template. Fields are written in braces: {symbol} or {side}.
func New(template string) (*Router, error) {
	if template == "" {
		return nil, fmt.Errorf("%w: empty name", ErrInvalidTemplate)
	}
	r := &Router{template: template}
	rest := template
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			if strings.IndexByte(rest, '}') >= 0 {
				return nil, fmt.Errorf("%w %q: '}' without '{'", ErrInvalidTemplate, template)
			}
			r.parts = append(r.parts, rest)
			return r, nil
		}
		closing := strings.IndexByte(rest[open:], '}')
		if closing < 0 {
			return nil, fmt.Errorf("%w %q: '{' without '}'", ErrInvalidTemplate, template)
		}
		field := rest[open+1 : open+closing]
		if _, ok := fields[field]; !ok {
			return nil, fmt.Errorf("%w %q: unknown field {%s}, expected {symbol} or {side}", ErrInvalidTemplate, template, field)
		}
		r.parts = append(r.parts, rest[:open], field)
		rest = rest[open+closing+1:]
	}
}

// Routed reports whether the template names a field, so that trades go to
// more than one channel.
func (r *Router) Routed() bool { return len(r.parts) > 1 }

// Channel returns the channel of t.
func (r *Router) Channel(t trade.Trade) string {
	if !r.Routed() {
		return r.template
	}
	var b strings.Builder
	for i, part := range r.parts {
		if i%2 == 0 {
			b.WriteString(part)
		} else {
			b.WriteString(fields[part](t))
		}
	}
	return b.String()
}

// Pattern returns the template with every field replaced by "*", the Ably
// capability resource that matches every channel of the template, such as
// "trades:*". A plain name is returned as it is.
func (r *Router) Pattern() string {
	var b strings.Builder
	for i, part := range r.parts {
		if i%2 == 0 {
			b.WriteString(part)
		} else {
			b.WriteString("*")
		}
	}
	return b.String()
}

// Channels returns the channel of each symbol for a template that names
// only {symbol}, and nil otherwise.
func (r *Router) Channels(symbols []string) []string {
	if !r.Routed() {
		return []string{r.template}
	}
	for i := 1; i < len(r.parts); i += 2 {
		if r.parts[i] != "symbol" {
			return nil
		}
	}
	out := make([]string, len(symbols))
	for i, s := range symbols {
		out[i] = r.Channel(trade.Trade{Symbol: s})
	}
	return out
}

package envconfig

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// String registers a free-form string setting.
func (s *Set) String(p *string, env, def, usage string) {
	*p = def
	s.add(env, usage, (*stringValue)(p))
}

// Secret registers a string setting whose value is never printed or logged.
func (s *Set) Secret(p *string, env, usage string) {
	*p = ""
	v := s.add(env, usage, (*stringValue)(p))
	v.secret = true
}

// Int registers an integer setting accepted from min to max inclusive.
func (s *Set) Int(p *int, env string, def, minimum, maximum int, usage string) {
	*p = def
	s.add(env, usage, &intValue{p: p, min: minimum, max: maximum})
}

// Duration registers a duration setting such as "1s" or "250ms", accepted
// from min to max inclusive.
func (s *Set) Duration(p *time.Duration, env string, def, minimum, maximum time.Duration, usage string) {
	*p = def
	s.add(env, usage, &durationValue{p: p, min: minimum, max: maximum})
}

// Bool registers a boolean setting: true, false, 1 or 0.
func (s *Set) Bool(p *bool, env string, def bool, usage string) {
	*p = def
	s.add(env, usage, (*boolValue)(p))
}

// Enum registers a string setting that must be one of choices.
func (s *Set) Enum(p *string, env, def string, choices []string, usage string) {
	*p = def
	s.add(env, usage, &enumValue{p: p, choices: choices})
}

// URL registers a setting that is empty or an absolute URL with one of the
// given schemes.
func (s *Set) URL(p *string, env string, schemes []string, usage string) {
	*p = ""
	s.add(env, usage, &urlValue{p: p, schemes: schemes})
}

// List registers a comma-separated list of non-empty items.
func (s *Set) List(p *[]string, env string, def []string, usage string) {
	*p = def
	s.add(env, usage, &listValue{p: p})
}

type stringValue string

func (v *stringValue) String() string     { return string(*v) }
func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }

type intValue struct {
	p        *int
	min, max int
}

func (v *intValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.Itoa(*v.p)
}

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < v.min || n > v.max {
		return fmt.Errorf("expected an integer from %d to %d", v.min, v.max)
	}
	*v.p = n
	return nil
}

type durationValue struct {
	p        *time.Duration
	min, max time.Duration
}

func (v *durationValue) String() string {
	if v.p == nil {
		return ""
	}
	return v.p.String()
}

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < v.min || d > v.max {
		return fmt.Errorf("expected a duration such as 1s or 250ms, from %s to %s", v.min, v.max)
	}
	*v.p = d
	return nil
}

type boolValue bool

func (v *boolValue) String() string { return strconv.FormatBool(bool(*v)) }

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return errors.New("expected true, false, 1 or 0")
	}
	*v = boolValue(b)
	return nil
}

// IsBoolFlag lets -flag stand for -flag=true.
func (v *boolValue) IsBoolFlag() bool { return true }

type enumValue struct {
	p       *string
	choices []string
}

func (v *enumValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v *enumValue) Set(s string) error {
	if !slices.Contains(v.choices, s) {
		return fmt.Errorf("expected one of %s", strings.Join(v.choices, ", "))
	}
	*v.p = s
	return nil
}

type urlValue struct {
	p       *string
	schemes []string
}

func (v *urlValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v *urlValue) Set(s string) error {
	if s == "" {
		*v.p = ""
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || !slices.Contains(v.schemes, u.Scheme) {
		return fmt.Errorf("expected a URL such as %s://host:port", v.schemes[0])
	}
	*v.p = s
	return nil
}

type listValue struct {
	p *[]string
}

func (v *listValue) String() string {
	if v.p == nil {
		return ""
	}
	return strings.Join(*v.p, ",")
}

func (v *listValue) Set(s string) error {
	var items []string
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return errors.New("expected a comma-separated list with no empty items")
		}
		items = append(items, item)
	}
	*v.p = items
	return nil
}

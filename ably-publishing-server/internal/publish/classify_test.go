package publish_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"testing"

	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably/ably-go/ably"
)

func TestClassify_Outcomes(t *testing.T) {
	timeout := &url.Error{Op: "Post", URL: "http://127.0.0.1:1/channels/trades/messages",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("i/o timeout")}}
	tests := []struct {
		name string
		err  error
		want publish.Outcome
	}{
		{name: "success", err: nil, want: publish.Published},
		{name: "channel rate limit", err: &ably.ErrorInfo{StatusCode: 429, Code: 42911}, want: publish.Retry},
		{name: "account rate limit", err: &ably.ErrorInfo{StatusCode: 429, Code: 42910}, want: publish.Retry},
		{name: "rate code without status", err: &ably.ErrorInfo{Code: 42922}, want: publish.Retry},
		{name: "internal error", err: &ably.ErrorInfo{StatusCode: 500, Code: 50000}, want: publish.Retry},
		{name: "gateway timeout", err: &ably.ErrorInfo{StatusCode: 504, Code: 50003}, want: publish.Retry},
		{name: "proxy page", err: &ably.ErrorInfo{StatusCode: 502, Code: 40000}, want: publish.Retry},
		{name: "network error", err: timeout, want: publish.Retry},
		{name: "deadline", err: context.DeadlineExceeded, want: publish.Retry},
		{name: "unknown key", err: &ably.ErrorInfo{StatusCode: 404, Code: 40400}, want: publish.ConfigError},
		{name: "method not allowed", err: &ably.ErrorInfo{StatusCode: 405, Code: 40500}, want: publish.Retry},
		{name: "message too large", err: &ably.ErrorInfo{StatusCode: 400, Code: 40009}, want: publish.Reject},
		{name: "message too large with status 413", err: &ably.ErrorInfo{StatusCode: 413, Code: 40009}, want: publish.Reject},
		{name: "invalid message data", err: &ably.ErrorInfo{StatusCode: 400, Code: 40013}, want: publish.Reject},
		{name: "invalid message id", err: &ably.ErrorInfo{StatusCode: 400, Code: 40031}, want: publish.Reject},
		{name: "invalid credentials", err: &ably.ErrorInfo{StatusCode: 401, Code: 40101}, want: publish.ConfigError},
		{name: "key revoked", err: &ably.ErrorInfo{StatusCode: 401, Code: 40131}, want: publish.ConfigError},
		{name: "capability denied", err: &ably.ErrorInfo{StatusCode: 401, Code: 40160}, want: publish.ConfigError},
		{name: "forbidden", err: &ably.ErrorInfo{StatusCode: 403, Code: 40300}, want: publish.ConfigError},
		{name: "invalid credential", err: &ably.ErrorInfo{StatusCode: 400, Code: 40005}, want: publish.ConfigError},
		{name: "invalid channel name", err: &ably.ErrorInfo{StatusCode: 400, Code: 40010}, want: publish.ConfigError},
		{name: "canceled", err: fmt.Errorf("publish: %w", context.Canceled), want: publish.Canceled},
		{name: "wrapped error info", err: fmt.Errorf("publish trade t-1: %w", &ably.ErrorInfo{StatusCode: 400, Code: 40009}), want: publish.Reject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := publish.Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %s, want %s", tt.err, got, tt.want)
			}
		})
	}
}

func TestCode_ReadsWrappedErrorInfo(t *testing.T) {
	err := fmt.Errorf("publish trade t-1: %w", &ably.ErrorInfo{StatusCode: 400, Code: 40009})
	if got := publish.Code(err); got != 40009 {
		t.Errorf("Code = %d, want 40009", got)
	}
	if got := publish.Code(errors.New("plain")); got != 0 {
		t.Errorf("Code of a plain error = %d, want 0", got)
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		raw     string
		want    publish.Endpoint
		wantErr bool
	}{
		{raw: "http://127.0.0.1:8081", want: publish.Endpoint{Host: "127.0.0.1", Port: 8081}},
		{raw: "http://ably-emulator:8081/", want: publish.Endpoint{Host: "ably-emulator", Port: 8081}},
		{raw: "http://localhost", want: publish.Endpoint{Host: "localhost", Port: 80}},
		{raw: "https://ably.example.com", want: publish.Endpoint{Host: "ably.example.com", Port: 443, TLS: true}},
		{raw: "http://[::1]:8081", want: publish.Endpoint{Host: "::1", Port: 8081}},
		{raw: "ftp://127.0.0.1:8081", wantErr: true},
		{raw: "http://127.0.0.1:8081/path", wantErr: true},
		{raw: "http://127.0.0.1:0", wantErr: true},
		{raw: "127.0.0.1:8081", wantErr: true},
		{raw: "http://", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := publish.ParseEndpoint(tt.raw)
			if tt.wantErr {
				if !errors.Is(err, publish.ErrInvalidEndpoint) {
					t.Errorf("ParseEndpoint(%q) error = %v, want ErrInvalidEndpoint", tt.raw, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEndpoint(%q): %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("ParseEndpoint(%q) = %+v, want %+v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestGotResponse_Outcomes(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "accepted", err: nil, want: true},
		{name: "rate limited", err: &ably.ErrorInfo{StatusCode: 429, Code: 42911}, want: true},
		{name: "server error", err: &ably.ErrorInfo{StatusCode: 500, Code: 50000}, want: true},
		{name: "rejected", err: fmt.Errorf("publish: %w", &ably.ErrorInfo{StatusCode: 400, Code: 40009}), want: true},
		{name: "ably-go timeout", err: &ably.ErrorInfo{StatusCode: 500, Code: 50003}, want: false},
		{name: "deadline", err: fmt.Errorf("publish: %w", context.DeadlineExceeded), want: false},
		{name: "canceled", err: context.Canceled, want: false},
		{name: "network error", err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := publish.GotResponse(tt.err); got != tt.want {
				t.Errorf("GotResponse(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

package publish

import (
	"context"
	"errors"
	"net/http"

	"github.com/ably/ably-go/ably"
)

// Outcome is the class of a publish result, which sets the worker's next step.
type Outcome int

const (
	// Published means Ably accepted the message.
	Published Outcome = iota
	// Retry means the failure is transient: a rate limit (429, 429xx), a
	// server error (5xx), a timeout or a network error. Publish the same
	// message again after a delay.
	Retry
	// Reject means Ably rejected the message itself (400, or 413 for a
	// message too large, with a 400xx code such as 40009 too large or 40013
	// invalid data). Retrying cannot fix it, so it goes to the dead-letter
	// list.
	Reject
	// ConfigError means Ably rejected the key or the channel rather than the
	// message: 401, 403, 404 (Ably's response to an unknown app or key),
	// 401xx, 403xx, 404xx, 40005 invalid credential or 40010 invalid channel
	// name. Every trade would fail the same way, so keep the trade, report
	// not ready and retry slowly.
	ConfigError
	// Canceled means the caller's context ended during the attempt.
	Canceled
)

// String returns the outcome's name for logs.
func (o Outcome) String() string {
	switch o {
	case Published:
		return "published"
	case Retry:
		return "retry"
	case Reject:
		return "reject"
	case ConfigError:
		return "config_error"
	case Canceled:
		return "canceled"
	}
	return "unknown"
}

// Ably error codes with status 400 that concern the setup, not the message.
const (
	codeInvalidCredential  = 40005
	codeInvalidChannelName = 40010
)

// Classify returns the outcome of a publish attempt that returned err.
//
// Ably errors are sorted by HTTP status first, because ably-go reports
// some responses that carry no Ably error body, such as an HTML page from
// a proxy, with code 40000 and the real status. A status or code not
// listed in the Outcome constants, such as 405, is retried, because
// dead-lettering would lose a trade that a fixed configuration can still
// publish.
func Classify(err error) Outcome {
	if err == nil {
		return Published
	}
	if errors.Is(err, context.Canceled) {
		return Canceled
	}
	info := errorInfo(err)
	if info == nil {
		// Network errors, DNS errors and timeouts come from the HTTP client
		// unwrapped.
		return Retry
	}
	status, code := info.StatusCode, int(info.Code)
	if status == 0 {
		status = code / 100
	}
	switch {
	case status == 429 || code/100 == 429:
		return Retry
	case status >= 500 || code >= 50000:
		return Retry
	case status == 401 || status == 403 || status == 404 ||
		code/100 == 401 || code/100 == 403 || code/100 == 404 ||
		code == codeInvalidCredential || code == codeInvalidChannelName:
		return ConfigError
	case (status == 400 || status == http.StatusRequestEntityTooLarge) && code/100 == 400:
		return Reject
	}
	return Retry
}

// codeTimeout is ably-go's code for a request that timed out.
const codeTimeout = 50003

// GotResponse reports whether a publish attempt that returned err got a
// response from Ably, accepted or not. Without one (a timeout, a network
// error, a canceled context) the request may still reach Ably later.
func GotResponse(err error) bool {
	if err == nil {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	info := errorInfo(err)
	return info != nil && int(info.Code) != codeTimeout
}

// Code returns the Ably error code in err, or 0 when err carries none.
func Code(err error) int {
	if info := errorInfo(err); info != nil {
		return int(info.Code)
	}
	return 0
}

// Message returns Ably's message in err without ably-go's decoration, or
// err.Error() when err is not an Ably error.
func Message(err error) string {
	if info := errorInfo(err); info != nil && info.Message() != "" {
		return info.Message()
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

func errorInfo(err error) *ably.ErrorInfo {
	var ptr *ably.ErrorInfo
	if errors.As(err, &ptr) && ptr != nil {
		return ptr
	}
	var value ably.ErrorInfo
	if errors.As(err, &value) {
		return &value
	}
	return nil
}

package emulator

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors returned by the Go API.
var (
	// ErrInvalidConfig is wrapped by Config.Validate and New for a bad setting.
	ErrInvalidConfig = errors.New("invalid emulator config")
	// ErrInvalidKey is wrapped by ParseKey for a string that is not an API key.
	ErrInvalidKey = errors.New("invalid API key")
	// ErrInvalidFault is wrapped by Server.AddFault for a fault that cannot apply.
	ErrInvalidFault = errors.New("invalid fault")
	// ErrInvalidPause is wrapped by Server.PauseConnections for a duration
	// out of range.
	ErrInvalidPause = errors.New("invalid pause")
)

// Ably error codes that the emulator returns, from Ably's error code list
// (ably-common protocol/errors.json and the pages under
// ably.com/docs/platform/errors/codes).
const (
	codeBadRequest            = 40000
	codeInvalidRequestBody    = 40001
	codeInvalidParameterValue = 40003
	codeInvalidCredential     = 40005
	codeMessageTooLarge       = 40009
	codeInvalidClientID       = 40012
	codeInvalidMessageData    = 40013
	codeInvalidMessageID      = 40031
	codeInvalidCredentials    = 40101
	codeIncompatibleClientID  = 40102
	codeTimestampNotCurrent   = 40104
	codeNonceReplayed         = 40105
	codeTokenExpired          = 40142
	codeTokenUnrecognised     = 40143
	codeCapabilityDenied      = 40160
	codeNotFound              = 40400
	codeMethodNotAllowed      = 40500
	// codeChannelRateExceeded is rate_limit_exceeded_per_channel_inbound,
	// which Ably documents with HTTP status 429. Older lists (and ably-go's
	// comments) give 42911, but that code is the per-connection limit.
	codeChannelRateExceeded = 42913
	codeInternal            = 50000
	codeDisconnected        = 80003
	codeConnectionExpired   = 80008
	codeProtocolError       = 80013
	codeSlowConsumer        = 80020
)

// ErrorInfo is Ably's error object, sent in REST error bodies as
// {"error": ErrorInfo} and in the error field of protocol messages.
type ErrorInfo struct {
	Message    string `json:"message" msgpack:"message"`
	Code       int    `json:"code" msgpack:"code"`
	StatusCode int    `json:"statusCode" msgpack:"statusCode"`
	Href       string `json:"href,omitempty" msgpack:"href,omitempty"`
}

// Error implements error.
func (e *ErrorInfo) Error() string {
	return fmt.Sprintf("%s (code %d, status %d)", e.Message, e.Code, e.StatusCode)
}

// newErrorInfo builds an ErrorInfo with the help link that Ably adds.
func newErrorInfo(statusCode, code int, format string, args ...any) *ErrorInfo {
	return &ErrorInfo{
		Message:    fmt.Sprintf(format, args...),
		Code:       code,
		StatusCode: statusCode,
		Href:       fmt.Sprintf("https://help.ably.io/error/%d", code),
	}
}

func errBadRequest(code int, format string, args ...any) *ErrorInfo {
	return newErrorInfo(http.StatusBadRequest, code, format, args...)
}

func errUnauthorized(code int, format string, args ...any) *ErrorInfo {
	return newErrorInfo(http.StatusUnauthorized, code, format, args...)
}

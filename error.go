package partnerlink

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in one place (web's table).
const (
	EINVALID      = "invalid"      // the input is malformed or breaks a rule: 400
	ENOTFOUND     = "not_found"    // the thing does not exist: 404
	ECONFLICT     = "conflict"     // the write conflicts with current state: 409
	EUNAUTHORIZED = "unauthorized" // no valid credential: 401
	EFORBIDDEN    = "forbidden"    // a valid credential without the right: 403
	ETOOLARGE     = "too_large"    // a body over the limit: 413
	EMETHOD       = "method"       // the path does not take this method: 405
	ETOOMANY      = "too_many"     // too many attempts or connections: 429
	EINTERNAL     = "internal"     // anything else: 500
)

// Error is the program's one error type. Code picks the HTTP status; ARMCode,
// when set, is the code put in the ARM error body (for example
// "AuthorizationFailed"); Message is shown to the user as it is.
type Error struct {
	Code    string
	ARMCode string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ARMErrorf is Errorf with an explicit ARM error code for the wire.
func ARMErrorf(code, armCode, format string, args ...any) *Error {
	return &Error{Code: code, ARMCode: armCode, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and
// EINTERNAL otherwise. A nil error has no code.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err. Errors that are not
// *Error are internal and their text is not shown to users.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

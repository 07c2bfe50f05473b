package atrium

import (
	"errors"
	"fmt"
)

// Application error codes. Each maps to one HTTP status in the error handler;
// they are deliberately few so that every layer agrees on what they mean.
const (
	ECONFLICT     = "conflict"     // the action clashes with existing state (duplicate slug)
	EINTERNAL     = "internal"     // a bug or an outage; never shown in detail
	EINVALID      = "invalid"      // the input is malformed
	ENOTFOUND     = "not_found"    // absent, or belongs to another tenant
	EFORBIDDEN    = "forbidden"    // authenticated but not allowed
	EUNAUTHORIZED = "unauthorized" // not authenticated
	ERATELIMIT    = "rate_limited" // too many attempts
	EUNAVAILABLE  = "unavailable"  // overloaded; try again shortly
	EGONE         = "gone"         // existed, but is used up, withdrawn or expired
)

// Error is an application error whose Message is safe to show to a user.
// Internal details belong in the wrapped error, which is only logged.
type Error struct {
	Code    string
	Message string
	// Fields holds per-field messages for form validation errors.
	Fields map[string]string
	// Err is the underlying cause, logged but never shown.
	Err error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with the given code and a user-facing message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error carrying per-field messages, so a form
// can be re-rendered with each message beside its field.
func Invalid(fields map[string]string) *Error {
	return &Error{Code: EINVALID, Message: "Please correct the highlighted fields.", Fields: fields}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
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

// ErrorMessage returns the user-facing message of err. Internal errors get a
// generic sentence so that no implementation detail leaks into a page.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "Something went wrong on our side. Please try again in a moment."
}

// ErrorFields returns the per-field messages of an EINVALID error, or nil.
func ErrorFields(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

package scheduler

import (
	"context"
	"errors"
	"fmt"
)

// Sentinel errors of the scheduler and the store. Callers test them with errors.Is.
var (
	// ErrAlreadyRunning answers a request for a run while another run is in progress. The
	// request is not queued.
	ErrAlreadyRunning = errors.New("a scrape is already running")
	// ErrNotRunning answers Cancel when no run is in progress.
	ErrNotRunning = errors.New("no scrape is running")
	// ErrSlotClaimed means a slot already has a run (or a missed record); it never runs twice.
	ErrSlotClaimed = errors.New("slot already claimed")
	// ErrNotStarted answers a command while the scheduler is not running (starting or stopping).
	ErrNotStarted = errors.New("the scheduler is not running")
	// ErrNotFound is returned for a run or setting that does not exist.
	ErrNotFound = errors.New("not found")
)

// RunError is a classified scrape failure. Scrapers return it so that the run record, the UI
// and the alerts can say what went wrong and what to do.
type RunError struct {
	Class ErrorClass
	Msg   string // a sentence a user can act on; never contains a secret
	Err   error  // the underlying cause, may be nil
}

func (e *RunError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Class, e.Msg, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Class, e.Msg)
}

func (e *RunError) Unwrap() error { return e.Err }

// Errorf returns a RunError of the given class.
func Errorf(class ErrorClass, format string, args ...any) *RunError {
	err := fmt.Errorf(format, args...)
	return &RunError{Class: class, Msg: err.Error(), Err: errors.Unwrap(err)}
}

// Classify returns the class and user message of err. Context cancellation is "canceled", a
// deadline is "timeout", and an unclassified error is a "portal_error".
func Classify(err error) (ErrorClass, string) {
	var re *RunError
	switch {
	case err == nil:
		return "", ""
	case errors.As(err, &re):
		return re.Class, re.Msg
	case errors.Is(err, context.Canceled):
		return ClassCanceled, "the run was canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return ClassTimeout, "the run did not finish before its deadline"
	default:
		return ClassPortalError, err.Error()
	}
}

// FieldError is a validation error that names the field at fault.
type FieldError struct {
	Field string // the field's name as the settings window and the CLI call it, e.g. "minute"
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// ValidationError lists every invalid field of a settings value.
type ValidationError []*FieldError

func (v ValidationError) Error() string {
	s := ""
	for i, e := range v {
		if i > 0 {
			s += "; "
		}
		s += e.Error()
	}
	return s
}

// Field returns the error for the named field, or nil.
func (v ValidationError) Field(name string) *FieldError {
	for _, e := range v {
		if e.Field == name {
			return e
		}
	}
	return nil
}

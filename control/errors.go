package control

import (
	"errors"
	"fmt"
	"net/http"

	"worktray/scheduler"
	"worktray/store"
)

// Sentinel errors of the control API. Callers test them with errors.Is. The client also returns
// errors that match scheduler.ErrAlreadyRunning (with the running run in *Error.Run),
// scheduler.ErrNotRunning, scheduler.ErrNotFound, scheduler.ErrNotStarted and
// scheduler.ValidationError (errors.As).
var (
	// ErrNoOwner means no owner answers on the socket: worktray is not running (the socket file
	// is missing, or left behind by an owner that was killed).
	ErrNoOwner = errors.New("worktray is not running")
	// ErrNoWindows answers a request to show a window from an owner that has none (headless).
	ErrNoWindows = errors.New("the running worktray is headless and has no windows")
	// ErrNotSupported means the owner has no implementation for the request (a hook not wired).
	ErrNotSupported = errors.New("not supported by the running worktray")
	// ErrSocketInUse means another process answers on the socket path Listen was given.
	ErrSocketInUse = errors.New("another process serves the control socket")
	// ErrForeignSocket means the process serving the control socket runs as another user: the
	// client refuses to send it anything (secrets included).
	ErrForeignSocket = errors.New("the control socket is served by another user")
	// ErrNotResponding means an owner holds the control socket but did not answer in time: it
	// is stopped (SIGSTOP), hung or overloaded. The client returns a *NotRespondingError, which
	// names the owner's pid when the socket told it.
	ErrNotResponding = errors.New("the worktray owner is not responding")
	// ErrDeadlinePassed means the owner received a request after the deadline its client sent
	// with it (DeadlineHeader) and refused it: nothing was applied.
	ErrDeadlinePassed = errors.New("the request reached the worktray owner after its deadline and was not applied")
)

// NotRespondingError says that the owner listening on Socket did not answer in time. It
// matches ErrNotResponding.
type NotRespondingError struct {
	PID    int    // the owner's process id from the socket's peer credentials; 0 when unknown
	Socket string // the control socket
	Op     string // what went unanswered, e.g. "GET /api/status"
}

func (e *NotRespondingError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("the worktray owner (pid %d) is not responding", e.PID)
	}
	return ErrNotResponding.Error()
}

// Is reports whether target is ErrNotResponding.
func (e *NotRespondingError) Is(target error) bool { return target == ErrNotResponding }

// Error is an error response of the control API.
type Error struct {
	Status  int    // the HTTP status
	Code    string // e.g. "already_running", "invalid"
	Message string
	Field   string                  // the first invalid field, for code "invalid" and bad parameters
	Fields  []*scheduler.FieldError // every invalid field, for code "invalid"
	Run     *scheduler.Run          // the running run, for code "already_running"
	// For code "stale_revision": the setting, the revision the write was based on and the
	// current one (errors.As gives a *store.StaleRevisionError).
	Setting  string
	Based    uint64
	Revision uint64
}

func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("control API: %d %s", e.Status, http.StatusText(e.Status))
}

// Unwrap returns the sentinel (or the scheduler.ValidationError) the code stands for.
func (e *Error) Unwrap() error {
	switch e.Code {
	case codeAlreadyRunning:
		return scheduler.ErrAlreadyRunning
	case codeNotRunning:
		return scheduler.ErrNotRunning
	case codeNotFound:
		return scheduler.ErrNotFound
	case codeUnavailable:
		return scheduler.ErrNotStarted
	case codeNoWindows:
		return ErrNoWindows
	case codeNotSupported:
		return ErrNotSupported
	case codeDeadlinePassed:
		return ErrDeadlinePassed
	case codeStaleRevision:
		return &store.StaleRevisionError{Setting: e.Setting, Based: e.Based, Current: e.Revision}
	case codeInvalid:
		if len(e.Fields) > 0 {
			return scheduler.ValidationError(e.Fields)
		}
		if e.Field != "" {
			return scheduler.ValidationError{{Field: e.Field, Msg: e.Message}}
		}
	}
	return nil
}

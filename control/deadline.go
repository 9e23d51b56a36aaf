package control

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// This file is the control API's request deadline. The client sends, with every request whose
// ctx has a deadline (every call of Client has one), the header DeadlineHeader carrying the
// time by which the owner must start handling it, as RFC 3339 with nanoseconds: the ctx's
// deadline, or for a long call (a backup, the checks, a login test) RequestTimeout after it
// is sent, when the client gives up on an owner that does not answer its pings. The server refuses a request whose deadline has
// passed before its handler starts with 408 and code deadline_passed: nothing is applied. A
// client that gave up on an owner that did not answer in time (stopped with SIGSTOP, hung)
// therefore never has its command applied later, when the owner reads it after all. Both ends
// run on the same machine and read the same wall clock.

// DeadlineHeader is the request header carrying the client's deadline (RFC 3339, nanoseconds).
const DeadlineHeader = "Worktray-Deadline"

type deadlineKey struct{}

// startDeadline returns the header pair naming the earlier of ctx's deadline and start.
func startDeadline(ctx context.Context, start time.Time) []string {
	if d, ok := ctx.Deadline(); ok && d.Before(start) {
		start = d
	}
	return []string{DeadlineHeader, start.UTC().Format(time.RFC3339Nano)}
}

// setDeadline adds ctx's deadline, if it has one, to the request's headers.
func setDeadline(ctx context.Context, h http.Header) {
	if d, ok := ctx.Deadline(); ok {
		h.Set(DeadlineHeader, d.UTC().Format(time.RFC3339Nano))
	}
}

// requestDeadline returns the client's deadline that withDeadline stored in the request's
// context, and false when the client sent none.
func requestDeadline(r *http.Request) (time.Time, bool) {
	d, ok := r.Context().Value(deadlineKey{}).(time.Time)
	return d, ok
}

// deadlinePassed reports whether the client's deadline, if it sent one, is at or before now.
func deadlinePassed(r *http.Request, now time.Time) bool {
	d, ok := requestDeadline(r)
	return ok && !now.Before(d)
}

// refuseExpired answers a request whose client deadline has passed.
func refuseExpired(w http.ResponseWriter, r *http.Request, now time.Time) {
	d, _ := requestDeadline(r)
	writeError(w, http.StatusRequestTimeout, codeDeadlinePassed,
		fmt.Sprintf("%s %s came %s after its client's deadline (%s) and was not applied",
			r.Method, r.URL.Path, now.Sub(d).Round(time.Millisecond), d.Format(time.RFC3339Nano)), DeadlineHeader)
}

// withDeadline is the middleware in front of every route: it parses DeadlineHeader (400 when
// it is not RFC 3339), refuses a request whose deadline has passed (408, code deadline_passed)
// and otherwise keeps the deadline in the request's context for the handler (the settings
// writes check it again once they hold the settings lock). now is the server's clock; each
// refusal is logged at warn level on log.
func withDeadline(now func() time.Time, log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := strings.TrimSpace(r.Header.Get(DeadlineHeader))
		if v == "" {
			h.ServeHTTP(w, r)
			return
		}
		d, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, codeBadRequest,
				fmt.Sprintf("%s must be an RFC 3339 time such as %q, got %q", DeadlineHeader,
					time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.UTC).Format(time.RFC3339Nano), v), DeadlineHeader)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), deadlineKey{}, d))
		if t := now(); deadlinePassed(r, t) {
			log.Warn("control request refused: its client's deadline had passed", "method", r.Method, "path", r.URL.Path,
				"late", t.Sub(d).Round(time.Millisecond))
			refuseExpired(w, r, t)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Package screens holds the content of worktray's windows: status, history, work orders and
// settings. Each screen declares the small interface it needs from the owner (the control API's
// client implements them all) and renders what it is given; it never talks to the store or the
// scheduler itself.
//
// Screens import Fyne's widget and canvas packages but not fyne.io/fyne/v2/app, so their tests
// run with Fyne's test driver, with CGO_ENABLED=0 and no display. Methods that change widgets
// (Update, Load results) must run on Fyne's goroutine: callers from other goroutines go
// through fyne.Do, which is what Options.Do does by default.
package screens

import (
	"context"
	"errors"
	"time"

	"fyne.io/fyne/v2"

	"worktray/scheduler"
)

// Options are what every screen shares: how to show times, how to run work in the background and
// how to come back to Fyne's goroutine.
type Options struct {
	// Location is the zone times are shown in (default time.Local).
	Location *time.Location
	// Now reads the clock (default time.Now).
	Now func() time.Time
	// Go runs f in the background (default: a new goroutine). Tests run it at once.
	Go func(f func())
	// Do runs f on Fyne's goroutine (default fyne.Do).
	Do func(f func())
	// Timeout bounds each call to the owner (default 15 s; Test login and Send test take longer).
	Timeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Go == nil {
		o.Go = func(f func()) { go f() }
	}
	if o.Do == nil {
		o.Do = fyne.Do
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	return o
}

// call runs fn in the background with a deadline and hands its error to done on Fyne's
// goroutine.
func (o Options) call(timeout time.Duration, fn func(ctx context.Context) error, done func(error)) {
	if timeout <= 0 {
		timeout = o.Timeout
	}
	o.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		err := fn(ctx)
		o.Do(func() { done(err) })
	})
}

// ErrorText turns an error from the owner into a sentence for a window.
func ErrorText(err error) string {
	var ve scheduler.ValidationError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, scheduler.ErrAlreadyRunning):
		return "A scrape is already running."
	case errors.Is(err, scheduler.ErrNotRunning):
		return "No scrape is running."
	case errors.Is(err, context.DeadlineExceeded):
		return "worktray did not answer in time."
	case errors.As(err, &ve):
		return "Please correct: " + ve.Error()
	default:
		return err.Error()
	}
}

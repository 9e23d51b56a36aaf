package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"worktray/app/view"
	"worktray/scheduler"
)

// TestScrapeExitCodes runs `worktray scrape` against an owner whose scraper ends each way.
func TestScrapeExitCodes(t *testing.T) {
	o := startInProcessOwner(t)
	fail := func(class scheduler.ErrorClass) func(context.Context, scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
		return func(context.Context, scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
			return scheduler.ScrapeResult{}, &scheduler.RunError{Class: class, Msg: "it went wrong: " + string(class)}
		}
	}
	cases := []struct {
		name    string
		outcome func(context.Context, scheduler.ScrapeRequest) (scheduler.ScrapeResult, error)
		code    int
		say     string
	}{
		{"success", func(context.Context, scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
			return scheduler.ScrapeResult{Orders: []scheduler.Order{{PortalID: "1", Number: "W-1"}}}, nil
		}, ExitOK, "succeeded · 1 orders (1 new)"},
		{"login_failed", fail(scheduler.ClassLoginFailed), ExitLoginFailed, view.ClassText(scheduler.ClassLoginFailed) + ": it went wrong"},
		{"timeout", fail(scheduler.ClassTimeout), ExitTimeout, view.ClassText(scheduler.ClassTimeout)},
		{"portal_error", fail(scheduler.ClassPortalError), ExitPortalError, view.ClassText(scheduler.ClassPortalError)},
		{"layout_changed", func(context.Context, scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
			return scheduler.ScrapeResult{}, nil // no rows and no empty-state marker
		}, ExitLayoutChanged, view.ClassText(scheduler.ClassLayoutChanged)},
		{"browser_failed", func(context.Context, scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
			panic("chromium exploded")
		}, ExitBrowserFailed, view.ClassText(scheduler.ClassBrowserFailed)},
		{"deadline", func(ctx context.Context, _ scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
			return scheduler.ScrapeResult{}, context.DeadlineExceeded
		}, ExitTimeout, view.ClassText(scheduler.ClassTimeout)},
	}
	seen := map[int]string{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o.scr.set(c.outcome)
			r := runMain(ctxT(t, 20*time.Second), o.dir, "scrape")
			if r.code != c.code || !strings.Contains(r.stdout, c.say) {
				t.Errorf("want exit %d saying %q; got %v", c.code, c.say, r)
			}
			if prev, dup := seen[r.code]; dup && c.code != ExitTimeout {
				t.Errorf("exit code %d for both %s and %s", r.code, prev, c.name)
			}
			seen[r.code] = c.name
		})
	}
	t.Run("json", func(t *testing.T) {
		o.scr.set(fail(scheduler.ClassLoginFailed))
		r := runMain(ctxT(t, 20*time.Second), o.dir, "scrape", "--json")
		if r.code != ExitLoginFailed || !strings.Contains(r.stdout, `"error_class": "login_failed"`) ||
			!strings.Contains(r.stdout, `"exit_code": 10`) {
			t.Errorf("got %v", r)
		}
	})
}

// TestScrapeCancel cancels a followed scrape from another command.
func TestScrapeCancel(t *testing.T) {
	o := startInProcessOwner(t)
	done := make(chan result, 1)
	go func() { done <- runMain(ctxT(t, 20*time.Second), o.dir, "scrape") }()
	<-o.scr.started
	if r := runMain(ctxT(t, 5*time.Second), o.dir, "cancel"); r.code != ExitOK || !strings.Contains(r.stdout, "canceling run") {
		t.Fatalf("cancel: %v", r)
	}
	r := <-done
	if r.code != ExitCanceled || !strings.Contains(r.stdout, "canceled") {
		t.Errorf("scrape after cancel: %v", r)
	}
	if !strings.Contains(r.stderr, "50% list · page 1/2 · 25 orders") {
		t.Errorf("no progress shown: %v", r)
	}
	if r := runMain(ctxT(t, 5*time.Second), o.dir, "cancel"); r.code != ExitConflict || !strings.Contains(r.stderr, "no scrape is running") {
		t.Errorf("cancel with nothing running: %v", r)
	}
}

// TestScrapeFollowsTheRunningOne: a scrape asked for while another runs follows that one.
func TestScrapeFollowsTheRunningOne(t *testing.T) {
	o := startInProcessOwner(t)
	release := make(chan struct{})
	o.scr.set(func(ctx context.Context, _ scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
		select {
		case <-release:
			return scheduler.ScrapeResult{EmptyState: true}, nil
		case <-ctx.Done():
			return scheduler.ScrapeResult{}, ctx.Err()
		}
	})
	run, err := o.svc.ScrapeNow(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	<-o.scr.started
	done := make(chan result, 1)
	go func() { done <- runMain(ctxT(t, 20*time.Second), o.dir, "scrape") }()
	time.Sleep(200 * time.Millisecond)
	close(release)
	r := <-done
	if r.code != ExitOK || !strings.Contains(r.stdout, "already running") || !strings.Contains(r.stdout, "succeeded") {
		t.Errorf("got %v", r)
	}
	if snap := o.svc.Snapshot(); snap.LastRun == nil || snap.LastRun.ID != run.ID {
		t.Errorf("a second run was started: last run %+v, want %d", snap.LastRun, run.ID)
	}
}

// TestScrapeDetach returns at once.
func TestScrapeDetach(t *testing.T) {
	o := startInProcessOwner(t)
	r := runMain(ctxT(t, 5*time.Second), o.dir, "scrape", "--detach")
	if r.code != ExitOK || !strings.Contains(r.stderr, "scrape started (run 1)") {
		t.Errorf("got %v", r)
	}
	<-o.scr.started
	if err := o.svc.Cancel(); err != nil {
		t.Error(err)
	}
}

func TestParseWeekdays(t *testing.T) {
	cases := map[string]string{
		"mon,tue": "Mon,Tue", "weekdays": "Mon–Fri", "mon-fri": "Mon–Fri", "sat,sun": "weekends",
		"all": "every day", "fri-mon": "Mon,Fri,Sat,Sun", "Monday, wed": "Mon,Wed",
	}
	for in, want := range cases {
		days, err := parseWeekdays(in)
		if err != nil || describeWeekdays(days) != want {
			t.Errorf("%q: %v %v, want %s", in, describeWeekdays(days), err, want)
		}
	}
	for _, in := range []string{"", "funday", "mon-xyz", ","} {
		if _, err := parseWeekdays(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

package scraper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/cdp"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/launcher/flags"
	"github.com/go-rod/rod/lib/proto"

	"worktray/scheduler"
)

// hostResolverRules stops Chromium's background lookups of Google hosts even with rod's
// default flags (measured here; see PLATFORM.md, "Browser").
const hostResolverRules = "MAP update.googleapis.com ~NOTFOUND, MAP accounts.google.com ~NOTFOUND, MAP clients2.google.com ~NOTFOUND"

// blockedTypes are resource types the browser never fetches.
var blockedTypes = []proto.NetworkResourceType{
	proto.NetworkResourceTypeImage, proto.NetworkResourceTypeFont, proto.NetworkResourceTypeMedia,
}

// launch starts the browser, connects to it over its DevTools pipe, blocks images, fonts and
// media and opens the main page. close undoes all of it.
//
// From here on the run's context also ends when the browser fails under it (its process exits,
// its pipe closes or a page crashes), with a cause that browserLost reports: such a run ends at
// once as browser_failed instead of waiting for a step's time limit as if the portal were slow.
func (r *run) launch() error {
	limit := r.s.prof.Timeouts.Browser.Duration
	bin, err := FindBrowser(r.s.cfg.BrowserPath)
	if err != nil {
		return &scheduler.RunError{Class: scheduler.ClassBrowserFailed, Msg: err.Error()}
	}
	r.ctx, r.loseBrowser = context.WithCancelCause(r.ctx)
	r.closing = make(chan struct{})
	ctx, cancel := r.step(r.ctx, limit)
	defer cancel()
	r.dataDir, err = newProfileDir(r.s.cfg.DataDir)
	if err != nil {
		return &scheduler.RunError{Class: scheduler.ClassBrowserFailed, Msg: "cannot create the browser's temporary profile directory", Err: err}
	}
	// DevTools runs over two pipes (--remote-debugging-pipe), so the browser listens on no TCP
	// port that another user of the machine could drive it through. The launcher only formats
	// the flags; startBrowser starts the process.
	l := launcher.New().Bin(bin).Leakless(false).Headless(true).
		UserDataDir(r.dataDir).
		Delete(flags.RemoteDebuggingPort).Set("remote-debugging-pipe").
		Set("host-resolver-rules", hostResolverRules).
		Set("disable-extensions").Set("disable-gpu").Set("mute-audio").
		Set("no-default-browser-check").Set("disable-component-update")
	proc, err := startBrowser(bin, l.FormatArgs(), r.dataDir)
	if err != nil {
		return r.launchErr(ctx, err, bin, limit)
	}
	r.proc = proc
	r.watchers.Go(r.watch)
	// The connection lives as long as the browser, so it is not made under ctx; each call below
	// carries its own context. Connect's one call is not bounded by a context, so it runs on its
	// own: when ctx ends first, close kills the browser, which ends Connect, and waits for it.
	b := rod.New().Client(cdp.New().Start(proc.conn))
	connected := make(chan error, 1)
	r.connecting = make(chan struct{})
	go func() {
		defer close(r.connecting)
		connected <- b.Connect()
	}()
	select {
	case err := <-connected:
		if err != nil {
			return r.launchErr(ctx, err, bin, limit)
		}
	case <-ctx.Done():
		return r.launchErr(ctx, ctx.Err(), bin, limit)
	}
	r.browser = b
	if err := r.blockResources(ctx); err != nil {
		return r.launchErr(ctx, err, bin, limit)
	}
	r.loadCookies()
	page, err := b.Context(ctx).Page(proto.TargetCreateTarget{})
	if err != nil {
		return r.launchErr(ctx, err, bin, limit)
	}
	r.page = page.Context(context.Background())
	return nil
}

// watch ends the run's context when the browser fails under it: its main process exits or its
// DevTools pipe closes before close began. It returns when either happened or close began.
func (r *run) watch() {
	p := r.proc
	select {
	case <-r.closing:
		return
	case <-p.exited:
	case <-p.conn.Done():
		// A dying browser closes its pipe a moment before it is reaped; say how it ended.
		select {
		case <-r.closing:
			return
		case <-p.exited:
		case <-time.After(time.Second):
			r.lose("the browser closed its DevTools connection")
			return
		}
	}
	r.lose("the browser exited unexpectedly (" + p.exitDescription() + ")")
}

// lose ends the run's context with a browserLostError saying what happened, unless close has
// begun (then the browser is ending on purpose). It is safe for concurrent use.
func (r *run) lose(what string) {
	select {
	case <-r.closing:
		return
	default:
	}
	r.log.Warn("the browser failed", "what", what, "pid", r.proc.pid, "stderr", r.proc.stderr())
	r.loseBrowser(&browserLostError{what: what})
}

// browserLost returns the browser's failure that ended the run's context, or nil.
func (r *run) browserLost() error {
	var e *browserLostError
	if r.ctx != nil && errors.As(context.Cause(r.ctx), &e) {
		return e
	}
	return nil
}

// browserFailed reports whether the browser has failed under the run. When its DevTools pipe
// has already ended but the watch has not yet said how, it waits for that (a second or two), so
// that the error names the cause.
func (r *run) browserFailed() bool {
	if r.browserLost() != nil {
		return true
	}
	if r.proc == nil || !r.browserGone() {
		return false
	}
	select {
	case <-r.ctx.Done():
	case <-time.After(2 * time.Second):
	}
	return r.browserLost() != nil
}

// pageCrashed reports whether page's renderer crashed (Target.targetCrashed); nothing can be
// read from it any more.
func (r *run) pageCrashed(page *rod.Page) bool {
	r.crashMu.Lock()
	defer r.crashMu.Unlock()
	return r.crashed[page.TargetID]
}

// browserGone reports whether the browser's process or its DevTools pipe has ended: nothing
// can be asked of it any more.
func (r *run) browserGone() bool {
	if r.proc == nil {
		return true
	}
	select {
	case <-r.proc.conn.Done():
		return true
	default:
		return r.proc.hasExited()
	}
}

// launchErr classifies an error of launch, whose steps run under ctx (bounded by limit). The end
// of the run's context keeps its own class; anything else, the step's deadline included, is the
// browser's failure, not the portal's.
func (r *run) launchErr(ctx context.Context, err error, bin string, limit time.Duration) error {
	re := r.rodErr(ctx, err, "starting the browser", limit)
	if r.ctx.Err() != nil {
		return re
	}
	if r.proc != nil {
		// Give a dying browser a moment to say why.
		select {
		case <-r.proc.exited:
		case <-time.After(200 * time.Millisecond):
		}
		r.log.Warn("the browser did not start", "bin", bin, "exit", r.proc.exitDescription(), "stderr", r.proc.stderr())
	}
	hint := "; check that it runs (e.g. `" + bin + " --headless --version`)"
	switch re.Class {
	case scheduler.ClassTimeout:
		re.Class = scheduler.ClassBrowserFailed
		re.Msg = fmt.Sprintf("the browser %s did not start within %s (the profile's timeouts.browser)%s", bin, limit, hint)
	case scheduler.ClassPortalError, scheduler.ClassBrowserFailed:
		re.Class = scheduler.ClassBrowserFailed
		re.Msg = "the browser " + bin + " did not start" + hint
	}
	return re
}

// blockResources makes the browser fail every image, font and media request at once. Fetch
// patterns filter by type in the browser, so other requests are not slowed down. The same loop
// notices a crashed page (Target.targetCrashed) and ends the run as the browser's failure.
//
// Intercepted requests wait until they are answered, so the loop that answers them lives as
// long as the browser (close stops it); only enabling the interception is bounded by ctx. rod's
// HijackRouter cannot do both: its setup calls and its loop share one context.
func (r *run) blockResources(ctx context.Context) error {
	loopCtx, stop := context.WithCancel(context.Background())
	r.stopBlocking = stop
	b := r.browser.Context(loopCtx)
	// Subscribing before enabling misses no paused request. Browser.EachEvent is not used: it
	// would first enable the Fetch domain for every request, with a call that ctx does not bound.
	events := b.Event()
	r.blockers.Go(func() {
		for msg := range events {
			var crashed proto.TargetTargetCrashed
			if msg.Load(&crashed) {
				r.crashMu.Lock()
				if r.crashed == nil {
					r.crashed = map[proto.TargetTargetID]bool{}
				}
				r.crashed[crashed.TargetID] = true
				r.crashMu.Unlock()
				r.lose(fmt.Sprintf("a page of the browser crashed (%s, code %d)", crashed.Status, crashed.ErrorCode))
				continue
			}
			var e proto.FetchRequestPaused
			if !msg.Load(&e) {
				continue
			}
			// Answering inside this loop could stall the browser's events, so each answer runs
			// on its own; close ends them with the browser.
			r.blockers.Go(func() {
				_ = proto.FetchFailRequest{RequestID: e.RequestID, ErrorReason: proto.NetworkErrorReasonBlockedByClient}.Call(b)
			})
		}
	})
	patterns := make([]*proto.FetchRequestPattern, len(blockedTypes))
	for i, t := range blockedTypes {
		patterns[i] = &proto.FetchRequestPattern{URLPattern: "*", ResourceType: t}
	}
	return proto.FetchEnable{Patterns: patterns}.Call(r.browser.Context(ctx))
}

// close kills the browser and all its processes and removes its profile directory. It blocks
// until they are gone (a few seconds at most) and may be called more than once. Each step is
// guarded, so that a failing step (even a panic) does not keep the next from running.
func (r *run) close() {
	r.closeOnce.Do(func() {
		guard := func(step string, fn func()) {
			defer func() {
				if v := recover(); v != nil {
					r.log.Error("closing the browser failed", "step", step, "panic", v)
				}
			}()
			fn()
		}
		if r.closing != nil {
			close(r.closing)
		}
		if r.stopBlocking != nil {
			// The blocking loop would answer requests of a dying browser; it ends at once, and
			// the answers still out fail with the browser below.
			r.stopBlocking()
		}
		if r.browser != nil && !r.browserGone() {
			// Asking first lets Chromium end its helpers; the kill below makes sure.
			guard("close", func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				_ = r.browser.Context(ctx).Close()
			})
		}
		if r.proc != nil {
			guard("kill", func() {
				if !r.proc.kill(10 * time.Second) {
					r.log.Warn("the browser did not exit after being killed", "pid", r.proc.pid)
				}
			})
		}
		if r.dataDir != "" {
			guard("remove", func() {
				if err := removeProfileDir(filepath.Clean(r.dataDir)); err != nil {
					r.log.Warn("cannot remove the browser's profile directory", "dir", r.dataDir, "err", err)
				}
			})
		}
		// With the browser gone, a Connect that launch stopped waiting for, the blocking loop,
		// its answers and the watch end.
		guard("wait", func() {
			done := make(chan struct{})
			go func() {
				if r.connecting != nil {
					<-r.connecting
				}
				r.blockers.Wait()
				r.watchers.Wait()
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				r.log.Warn("calls to the browser did not end after it was killed")
			}
		})
		if r.loseBrowser != nil {
			r.loseBrowser(context.Canceled)
		}
	})
}

// removeDir removes a browser's profile directory, retrying for a moment while a dying helper
// process may still write to it.
func removeDir(dir string) error {
	for i := 0; ; i++ {
		err := os.RemoveAll(dir)
		_, serr := os.Stat(dir)
		if err == nil && errors.Is(serr, os.ErrNotExist) {
			return nil
		}
		if i == 40 {
			if err == nil {
				err = fmt.Errorf("%s is still there", dir)
			}
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

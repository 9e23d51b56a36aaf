package scraper

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
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

// launch starts the browser, connects to it, blocks images, fonts and media and opens the
// main page. close undoes all of it.
func (r *run) launch() error {
	limit := r.s.prof.Timeouts.Browser.Duration
	bin, err := FindBrowser(r.s.cfg.BrowserPath)
	if err != nil {
		return &scheduler.RunError{Class: scheduler.ClassBrowserFailed, Msg: err.Error()}
	}
	ctx, cancel := r.step(r.ctx, limit)
	defer cancel()
	r.dataDir, err = os.MkdirTemp("", "worktray-chromium-")
	if err != nil {
		return &scheduler.RunError{Class: scheduler.ClassBrowserFailed, Msg: "cannot create the browser's temporary profile directory", Err: err}
	}
	// Leakless is off (it extracts a helper binary and locks a TCP port), so close must kill
	// the browser on every path; it does.
	l := launcher.New().Context(ctx).Bin(bin).Leakless(false).Headless(true).
		UserDataDir(r.dataDir).
		Set("host-resolver-rules", hostResolverRules).
		Set("disable-extensions").Set("disable-gpu").Set("mute-audio").
		Set("no-default-browser-check").Set("disable-component-update")
	r.l = l
	u, err := l.Launch()
	if err != nil {
		return r.launchErr(ctx, err, bin, limit)
	}
	// The connection lives as long as the browser, so it is not made under ctx; each call below
	// carries its own context. Connect itself cannot be bounded, so it runs on its own: when
	// ctx ends first, close kills the browser, which ends Connect, and waits for it.
	b := rod.New().ControlURL(u)
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

// launchErr classifies an error of launch, whose steps run under ctx (bounded by limit). The end
// of the run's context keeps its own class; anything else, the step's deadline included, is the
// browser's failure, not the portal's.
func (r *run) launchErr(ctx context.Context, err error, bin string, limit time.Duration) error {
	re := r.rodErr(ctx, err, "starting the browser", limit)
	if r.ctx.Err() != nil {
		return re
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
// patterns filter by type in the browser, so other requests are not slowed down.
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
		if r.stopBlocking != nil {
			// The blocking loop would answer requests of a dying browser; it ends at once, and
			// the answers still out fail with the browser below.
			r.stopBlocking()
		}
		if r.browser != nil {
			// Asking first lets Chromium end its helpers; the kill below makes sure.
			guard("close", func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				_ = r.browser.Context(ctx).Close()
			})
		}
		if r.l != nil && r.l.PID() != 0 {
			guard("kill", func() {
				killGroup(r.l.PID())
				done := make(chan struct{})
				go func() {
					r.l.Cleanup()
					close(done)
				}()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					r.log.Warn("the browser did not exit after being killed", "pid", r.l.PID())
				}
			})
		}
		if r.dataDir != "" {
			guard("remove", func() {
				killByArgument(r.dataDir)
				removeDir(filepath.Clean(r.dataDir))
			})
		}
		// With the browser gone, a Connect that launch stopped waiting for, the blocking loop
		// and its answers end.
		guard("wait", func() {
			done := make(chan struct{})
			go func() {
				if r.connecting != nil {
					<-r.connecting
				}
				r.blockers.Wait()
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				r.log.Warn("calls to the browser did not end after it was killed")
			}
		})
	})
}

// removeDir removes the browser's profile directory, retrying for a moment while a dying
// helper process may still write to it.
func removeDir(dir string) {
	for i := 0; ; i++ {
		err := os.RemoveAll(dir)
		if _, serr := os.Stat(dir); err == nil && os.IsNotExist(serr) || i == 40 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

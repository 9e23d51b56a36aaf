package scraper

import (
	"context"
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
	// The connection lives as long as the browser; each call below carries its own context.
	// Connecting to a browser that just printed its address does not wait on the portal.
	b := rod.New().ControlURL(u)
	if err := b.Connect(); err != nil {
		return r.launchErr(ctx, err, bin, limit)
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

func (r *run) launchErr(ctx context.Context, err error, bin string, limit time.Duration) error {
	re := r.rodErr(ctx, err, "starting the browser", limit)
	if re.Class == scheduler.ClassPortalError {
		re.Class = scheduler.ClassBrowserFailed
	}
	if re.Class == scheduler.ClassBrowserFailed {
		re.Msg = "the browser " + bin + " did not start; check that it runs (e.g. `" + bin + " --headless --version`)"
	}
	return re
}

// blockResources makes the browser fail every image, font and media request at once. Fetch
// patterns filter by type in the browser, so other requests are not slowed down.
func (r *run) blockResources(ctx context.Context) error {
	router := r.browser.Context(ctx).HijackRequests()
	for _, t := range blockedTypes {
		if err := router.Add("*", t, func(h *rod.Hijack) {
			h.Response.Fail(proto.NetworkErrorReasonBlockedByClient)
		}); err != nil {
			return err
		}
	}
	go router.Run()
	return nil
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

package scraper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"worktray/scheduler"
	"worktray/scraper/demoportal"
)

// fakeBrowserEnv makes the test binary, started as the browser, act as a browser that takes its
// DevTools pipe but never answers on it. TestMain checks it.
const fakeBrowserEnv = "WORKTRAY_TEST_FAKE_BROWSER"

// runFakeBrowser is the test binary's life as a browser that hangs when the scraper connects:
// it reads the commands on its fd 3 and answers none. It ends only when it is killed. With the
// value "deaf" it does not even read its pipe; with "owner" the test binary is instead an owner
// that starts a deaf browser (runFakeOwner).
func runFakeBrowser() {
	switch os.Getenv(fakeBrowserEnv) {
	case "owner":
		runFakeOwner()
	case "deaf":
	default:
		cmds := os.NewFile(3, "devtools-in")
		_, _ = io.Copy(io.Discard, cmds)
	}
	for {
		time.Sleep(time.Hour)
	}
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(st)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// TestBlockedRequestsFailAtOnce covers blocked images, fonts and media: they must fail at once,
// not stay paused, so that the page finishes loading. The login form of this page only appears
// on window.onload, which waits for its image.
func TestBlockedRequestsFailAtOnce(t *testing.T) {
	var static atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /static/", func(w http.ResponseWriter, _ *http.Request) {
		static.Add(1)
		w.WriteHeader(http.StatusNotFound)
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><head><title>Sign in</title></head><body>
<img src="/static/logo.png" alt=""><audio src="/static/chime.mp3" preload="auto"></audio>
<div id="app">Loading…</div>
<script>
window.onload = () => {
  document.getElementById("app").innerHTML = '<form id="login-form" method="post" action="/login">' +
    '<input id="user" name="user"><input id="pass" name="pass" type="password">' +
    '<button id="go" type="submit">Sign in</button></form>';
};
</script></body></html>`)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("user") != "ann" || r.FormValue("pass") != "secret-1" {
			fmt.Fprint(w, `<!doctype html><p class="error">Wrong password</p>`)
			return
		}
		http.Redirect(w, r, "/home", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /home", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><body><img src="/static/banner.png" alt=""><div class="welcome">Welcome</div></body></html>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	s := newTestPageScraper(t, srv.URL, "ann", "secret-1", nil)
	if err := s.TestLogin(testCtx(t, time.Minute)); err != nil {
		t.Fatalf("signing in on a page that draws its form on window.onload: %v", err)
	}
	if n := static.Load(); n != 0 {
		t.Errorf("%d image or media requests reached the server; want them blocked", n)
	}
}

// TestDemoListPageFinishesLoading checks the same on the demo portal: its list page (with an
// image and a web font) reaches readyState "complete".
func TestDemoListPageFinishesLoading(t *testing.T) {
	p, base := startPortal(t, demoportal.Options{Seed: 1, Count: 3})
	s, _ := newScraper(t, p, base, nil)
	r := &run{s: s, ctx: testCtx(t, time.Minute), log: s.log, stageStart: time.Now()}
	defer r.close()
	if err := r.launch(); err != nil {
		t.Fatal(err)
	}
	if err := r.login(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	var state string
	err := evalJSON(ctx, r.page, true, &state, `async function (limit) {
  const deadline = Date.now() + limit;
  while (document.readyState !== "complete" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return JSON.stringify(document.readyState);
}`, 5000)
	if err != nil {
		t.Fatal(err)
	}
	if state != "complete" {
		t.Errorf("the list page's readyState is %q after 5s; want complete", state)
	}
	if st := p.Stats(); st.StaticRequests != 0 {
		t.Errorf("%d image, font or media requests reached the portal; want them blocked", st.StaticRequests)
	}
}

// TestBrowserThatHangsAtStartup covers a browser that never prints its DevTools address: the
// failure is the browser's (not the portal's), and the process is killed.
func TestBrowserThatHangsAtStartup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	bin := filepath.Join(dir, "chromium")
	script := "#!/bin/sh\necho $$ > '" + pidFile + "'\nexec sleep 1000\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p, base := startPortal(t, demoportal.Options{Seed: 1, Count: 1})
	s, _ := newScraper(t, p, base, func(prof *Profile, c *Config) {
		prof.Timeouts.Browser.Duration = 500 * time.Millisecond
		c.BrowserPath = bin
	})
	_, err := s.Scrape(testCtx(t, time.Minute), scheduler.ScrapeRequest{RunID: 1})
	if err == nil {
		t.Fatal("a scrape with a browser that never starts succeeded")
	}
	if cls := runClass(t, err); cls != scheduler.ClassBrowserFailed {
		t.Errorf("class %s, want %s (%v)", cls, scheduler.ClassBrowserFailed, err)
	}
	if want := "the browser " + bin + " did not start within 500ms"; !strings.Contains(err.Error(), want) {
		t.Errorf("message %q does not contain %q", err.Error(), want)
	}
	b, rerr := os.ReadFile(pidFile)
	if rerr != nil {
		t.Fatalf("the fake browser did not run: %v", rerr)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid <= 0 {
		t.Fatalf("bad pid file %q", b)
	}
	if alive(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the browser process %d is still running after Scrape returned", pid)
	}
}

// TestConnectIsBoundedByTheRun covers a browser that prints its address but never completes
// the DevTools connection: canceling the run (or the browser's time limit) ends the scrape,
// and the connecting goroutine ends with the killed browser.
func TestConnectIsBoundedByTheRun(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeBrowserEnv, "1")
	for _, tc := range []struct {
		name    string
		cancel  bool // cancel the run, else let the browser's time limit pass
		class   scheduler.ErrorClass
		inMsg   string
		browser time.Duration
	}{
		{name: "run canceled", cancel: true, class: scheduler.ClassCanceled, inMsg: "canceled", browser: time.Minute},
		{name: "browser time limit", class: scheduler.ClassBrowserFailed, inMsg: "did not start within 1s", browser: time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			// No portal: the scrape never gets that far.
			s := newTestPageScraper(t, "http://127.0.0.1:1", "ann", "secret-1", func(prof *Profile, c *Config) {
				prof.Timeouts.Browser.Duration = tc.browser
				c.BrowserPath = self
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				time.AfterFunc(time.Second, cancel)
			}
			done := make(chan error, 1)
			start := time.Now()
			go func() {
				_, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 1})
				done <- err
			}()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("Scrape did not return 20s after the run ended; connecting to the browser is not bounded")
			}
			if err == nil {
				t.Fatal("a scrape with a browser that never connects succeeded")
			}
			if cls := runClass(t, err); cls != tc.class {
				t.Errorf("class %s, want %s (%v)", cls, tc.class, err)
			}
			if !strings.Contains(err.Error(), tc.inMsg) {
				t.Errorf("message %q does not contain %q", err.Error(), tc.inMsg)
			}
			var re *scheduler.RunError
			if errors.As(err, &re) && tc.cancel && !errors.Is(re, context.Canceled) {
				t.Errorf("error %v does not wrap context.Canceled", err)
			}
			t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
		})
	}
}

package owner

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"worktray/paths"
	"worktray/scraper"
	"worktray/store"
)

// TestStartupFail runs Run with a setup step that fails after the demo portal and the control
// socket are open (as syncthing's TestStartupFail drives New/Start/Wait): Run returns that
// step's error, and the demo portal, the control socket and the store are closed, with no
// goroutine left behind. A step failing before them (a bad log level) opens nothing either.
func TestStartupFail(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		name    string
		opts    Options
		wantErr string
		demo    bool // the demo portal and the control socket were opened before the failure
	}{
		{"health address in use", Options{Demo: true, HealthAddr: busy.Addr().String()}, "--health-addr", true},
		{"health address not loopback", Options{Demo: true, HealthAddr: "192.0.2.1:8098"}, "only a loopback address", true},
		{"bad log level", Options{Demo: true, LogLevel: "loud"}, "--log-level", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			p := paths.Resolve(t.TempDir())
			opts := tc.opts
			opts.Paths, opts.Headless, opts.Stderr = p, true, io.Discard
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := Run(ctx, opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Run = %v, want an error mentioning %q", err, tc.wantErr)
			}

			// The store is closed: it opens again, and holds the demo portal's address when the
			// portal was started.
			db, err := store.Open(p.DB, store.Options{})
			if err != nil {
				t.Fatalf("the store was left open: %v", err)
			}
			var ps scraper.Settings
			ok, err := db.Setting(scraper.SettingsKey, &ps)
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.demo {
				t.Fatalf("demo portal settings stored: %v, want %v", ok, tc.demo)
			}
			if tc.demo {
				u, err := url.Parse(ps.URL)
				if err != nil || u.Host == "" {
					t.Fatalf("demo portal URL %q: %v", ps.URL, err)
				}
				if c, err := net.DialTimeout("tcp", u.Host, 2*time.Second); err == nil {
					c.Close()
					t.Errorf("the demo portal at %s still accepts connections", u.Host)
				}
			}
			if c, err := net.DialTimeout("unix", p.Socket, 2*time.Second); err == nil {
				c.Close()
				t.Error("the control socket still accepts connections")
			}
			if _, err := os.Lstat(p.Socket); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the control socket file is left behind: %v", err)
			}
		})
	}
}

package control

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"worktray/app/view"
	"worktray/scheduler"
)

// snapshotEdit is the real scheduler with its snapshots changed by edit: a state the test cannot
// reach with the real one on this machine (a full disk, a schedule that cannot be armed).
type snapshotEdit struct {
	*scheduler.Service
	edit func(*scheduler.Snapshot)
}

func (s snapshotEdit) Snapshot() scheduler.Snapshot {
	snap := s.Service.Snapshot()
	s.edit(&snap)
	return snap
}

// serveWith serves a second control server over h's store with the scheduler sched, on a socket
// of its own, and returns its client.
func serveWith(t *testing.T, h *harness, sched Scheduler) (*Server, *Client) {
	t.Helper()
	srv, err := NewServer(Config{Scheduler: sched, Store: h.db, Hooks: h.hooks})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(h.dir, "run2", "control.sock")
	l, err := Listen(sock, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = srv.Serve(ctx, l) }()
	c := NewClient(sock)
	t.Cleanup(func() { c.Close(); cancel(); wg.Wait() })
	return srv, c
}

// TestHealthStuckAndStorageFailed: a scheduler that cannot arm its next slot, or a store that
// cannot be written, makes the health endpoint answer 503 with the reason in words, on the
// control socket and (without the error text) on the loopback TCP endpoint.
func TestHealthStuckAndStorageFailed(t *testing.T) {
	h := newHarness(t, Hooks{})
	since := time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, status string
		edit         func(*scheduler.Snapshot)
		want         []string // in the problem, on the socket
		public       []string // in the problem, on TCP
		hidden       string   // not on TCP
	}{
		{"stuck", "stuck", func(s *scheduler.Snapshot) {
			s.Stuck, s.StuckSince = "no slot in the next 366 days matches the schedule", since
		}, []string{"cannot arm its next run", "no slot in the next 366 days", "2026-05-04T09:30:00Z"},
			[]string{"cannot arm its next run"}, ""},
		{"storage failed", "storage_failed", func(s *scheduler.Snapshot) {
			s.StorageError, s.Unrecorded = "write /data/worktray.db: no space left on device", 3
		}, []string{"cannot write its store", "no space left on device", "3 runs could not be recorded"},
			[]string{"cannot write its store", "3 runs could not be recorded"}, "no space left"},
		{"last run storage failed", "storage_failed", func(s *scheduler.Snapshot) {
			s.ConsecutiveFailures, s.LastErrorClass = 1, scheduler.ClassStorageFailed
			s.LastError = "the scrape read 150 work orders but they could not be saved: no space left on device"
		}, []string{"cannot write its store", "could not be saved: no space left on device"},
			[]string{"cannot write its store"}, "no space left"},
		{"failing in words", "failing", func(s *scheduler.Snapshot) {
			s.ConsecutiveFailures, s.LastErrorClass, s.LastError = 3, scheduler.ClassLoginFailed, "the password was refused"
		}, []string{"the last 3 runs failed", view.ClassText(scheduler.ClassLoginFailed), "the password was refused"},
			[]string{"the last 3 runs failed", view.ClassText(scheduler.ClassLoginFailed)}, "the password was refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := serveWith(t, h, snapshotEdit{h.svc, tc.edit})
			hc, err := c.Health(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			problems := strings.Join(hc.Problems, "\n")
			if hc.Healthy || hc.Status != tc.status {
				t.Errorf("health %+v, want unhealthy %q", hc, tc.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(problems, w) {
					t.Errorf("problems %q lack %q", problems, w)
				}
			}
			for _, code := range []scheduler.ErrorClass{scheduler.ClassStorageFailed, scheduler.ClassLoginFailed,
				scheduler.ClassPortalError, scheduler.ClassLayoutChanged, scheduler.ClassConfig} {
				if strings.Contains(problems, string(code)) {
					t.Errorf("problems %q show the internal code %q", problems, code)
				}
			}
			// The raw answer is 503.
			req, _ := http.NewRequestWithContext(ctxT(t), http.MethodGet, "http://worktray/api/scheduler/health", nil)
			resp, err := c.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("socket health: HTTP %d, want 503", resp.StatusCode)
			}

			l, err := ListenHealth("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.ServeHealth(ctx, l) }()
			defer func() { cancel(); <-done }()
			hcl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err = hcl.Get("http://" + l.Addr().String() + "/api/scheduler/health")
			if err != nil {
				t.Fatal(err)
			}
			var pub PublicHealth
			_ = json.NewDecoder(resp.Body).Decode(&pub)
			resp.Body.Close()
			ptext := strings.Join(pub.Problems, "\n")
			if resp.StatusCode != http.StatusServiceUnavailable || pub.Healthy || pub.Status != tc.status {
				t.Errorf("TCP health: HTTP %d %+v, want 503 %q", resp.StatusCode, pub, tc.status)
			}
			for _, w := range tc.public {
				if !strings.Contains(ptext, w) {
					t.Errorf("TCP problems %q lack %q", ptext, w)
				}
			}
			if tc.hidden != "" && strings.Contains(ptext, tc.hidden) {
				t.Errorf("TCP problems %q show the error text %q", ptext, tc.hidden)
			}
		})
	}
	// The real scheduler's own snapshot is healthy: the verdict above came from the fields.
	if hc, err := h.client.Health(ctxT(t)); err != nil || !hc.Healthy {
		t.Fatalf("unedited health %+v, %v", hc, err)
	}
}

package control

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"worktray/store"
)

// expiredHeader is a DeadlineHeader value that passed a second ago.
func expiredHeader() []string {
	return []string{DeadlineHeader, time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)}
}

// sendExpired sends a request carrying a deadline that has passed (with a context that has
// none, so the client does not replace it) and checks that the owner refused it as
// deadline_passed.
func sendExpired(t *testing.T, h *harness, method, path string, in any) {
	t.Helper()
	err := h.client.exchange(context.Background(), method, path, in, nil, expiredHeader()...)
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusRequestTimeout || e.Code != codeDeadlinePassed || !errors.Is(err, ErrDeadlinePassed) {
		t.Fatalf("%s %s with a passed deadline: %v (%#v), want 408 deadline_passed", method, path, err, e)
	}
}

// TestExpiredCommandsNotApplied sends every command and settings write with a deadline that
// has passed: each is refused with 408 deadline_passed and changes nothing; the same command
// with a live deadline is applied.
func TestExpiredCommandsNotApplied(t *testing.T) {
	m := &memAlerts{}
	h := newHarness(t, m.hooks())
	ctx := ctxT(t)

	sendExpired(t, h, http.MethodPost, "/api/pause", nil)
	if h.svc.Snapshot().Paused {
		t.Fatal("an expired pause was applied")
	}
	if st, err := h.client.Pause(ctx); err != nil || !st.Paused {
		t.Fatalf("a live pause: %+v, %v", st, err)
	}
	sendExpired(t, h, http.MethodPost, "/api/resume", nil)
	if !h.svc.Snapshot().Paused {
		t.Fatal("an expired resume was applied")
	}
	if _, err := h.client.Resume(ctx); err != nil {
		t.Fatal(err)
	}

	before, err := h.client.Schedule(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sc := before.Schedule
	sc.Minute = (sc.Minute + 7) % 60
	sendExpired(t, h, http.MethodPut, "/api/schedule", sc)
	if after, err := h.client.Schedule(ctx); err != nil || after.Revision != before.Revision || after.Schedule.Minute != before.Schedule.Minute {
		t.Fatalf("an expired schedule write was applied: %+v, %v (before %+v)", after, err, before)
	}

	rbefore, err := h.client.RetentionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sendExpired(t, h, http.MethodPut, "/api/retention", store.Retention{KeepRuns: 500})
	if rafter, err := h.client.RetentionInfo(ctx); err != nil || rafter.Revision != rbefore.Revision {
		t.Fatalf("an expired retention write was applied: %+v, %v", rafter, err)
	}

	n := 4
	sendExpired(t, h, http.MethodPut, "/api/alerts", AlertsInput{FailureThreshold: &n})
	if m.applied.Load() != 0 {
		t.Fatal("an expired alerts write was applied")
	}

	backup := filepath.Join(h.dir, "expired.db")
	sendExpired(t, h, http.MethodPost, "/api/backup", BackupRequest{Path: backup})
	if _, err := os.Stat(backup); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an expired backup wrote %s: %v", backup, err)
	}

	sendExpired(t, h, http.MethodPost, "/api/scrape", nil)
	if runs, err := h.db.Runs(store.RunQuery{}); err != nil || len(runs) != 0 || h.svc.Snapshot().Running != nil {
		t.Fatalf("an expired scrape started a run: %v, %v", runs, err)
	}

	run := h.scrape()
	sendExpired(t, h, http.MethodPost, "/api/cancel", nil)
	if r := h.svc.Snapshot().Running; r == nil || r.ID != run.ID {
		t.Fatalf("an expired cancel ended the run: running %+v", r)
	}
	if err := h.client.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	h.waitIdle()
}

// TestDeadlineMiddleware checks the middleware alone against a fixed clock: no header passes,
// a deadline after now passes with the deadline kept for the handler, one at or before now is
// refused, and a malformed one is a 400 naming the header.
func TestDeadlineMiddleware(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 500, time.UTC)
	for _, tc := range []struct {
		name   string
		header string
		want   int
		code   string
	}{
		{"none", "", http.StatusOK, ""},
		{"future", now.Add(time.Nanosecond).Format(time.RFC3339Nano), http.StatusOK, ""},
		{"other zone", now.Add(time.Millisecond).In(time.FixedZone("X", 3600)).Format(time.RFC3339Nano), http.StatusOK, ""},
		{"exactly now", now.Format(time.RFC3339Nano), http.StatusRequestTimeout, codeDeadlinePassed},
		{"past", now.Add(-time.Hour).Format(time.RFC3339Nano), http.StatusRequestTimeout, codeDeadlinePassed},
		{"malformed", "in five seconds", http.StatusBadRequest, codeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			h := withDeadline(func() time.Time { return now }, slog.New(slog.DiscardHandler), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				d, ok := requestDeadline(r)
				if ok != (tc.header != "") || (ok && d.Format(time.RFC3339Nano) != mustParse(t, tc.header).Format(time.RFC3339Nano)) {
					t.Errorf("handler saw deadline %v, %v", d, ok)
				}
				w.WriteHeader(http.StatusOK)
			}))
			req := httptest.NewRequest(http.MethodPost, "/api/pause", nil)
			if tc.header != "" {
				req.Header.Set(DeadlineHeader, tc.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want || called != (tc.want == http.StatusOK) {
				t.Fatalf("status %d, handler called %v; want %d", rec.Code, called, tc.want)
			}
			if tc.code != "" {
				err := decodeError(rec.Code, rec.Body.Bytes())
				var e *Error
				if !errors.As(err, &e) || e.Code != tc.code || e.Field != DeadlineHeader {
					t.Fatalf("answer %v (%#v), want code %s naming %s", err, e, tc.code, DeadlineHeader)
				}
			}
		})
	}
}

func mustParse(t *testing.T, v string) time.Time {
	d, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestClientSendsItsDeadline: every request of the client carries its context's deadline, and
// a call without one gets RequestTimeout's.
func TestClientSendsItsDeadline(t *testing.T) {
	socket := filepath.Join(shortTempDir(t), "s.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 4)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get(DeadlineHeader)
		writeJSON(w, http.StatusOK, Status{})
	})}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	c := NewClient(socket)
	t.Cleanup(func() { c.Close(); _ = srv.Close(); <-done })
	want := time.Now().Add(7 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), want)
	defer cancel()
	if _, err := c.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if got := mustParse(t, <-seen); !got.Equal(want) {
		t.Fatalf("sent deadline %v, want %v", got, want)
	}
	before := time.Now()
	if _, err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := mustParse(t, <-seen); got.Before(before.Add(c.RequestTimeout)) {
		t.Fatalf("a call without a deadline sent %v; want RequestTimeout's (after %v)", got, before.Add(c.RequestTimeout))
	}
	// A long call must start within RequestTimeout, not within its own long timeout: the
	// client gives up on a silent owner that soon.
	before = time.Now()
	if _, err := c.Backup(context.Background(), filepath.Join(t.TempDir(), "b.db")); err != nil {
		t.Fatal(err)
	}
	got := mustParse(t, <-seen)
	if got.Before(before.Add(c.RequestTimeout)) || got.After(time.Now().Add(c.RequestTimeout)) {
		t.Fatalf("a backup must start by %v; want RequestTimeout (%v) after it was sent", got, c.RequestTimeout)
	}
}

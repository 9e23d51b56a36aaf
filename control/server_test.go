package control

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"worktray/app/view"
	"worktray/scheduler"
	"worktray/store"
)

// raw sends a request as is and returns the status and the decoded JSON body.
func (h *harness) raw(method, path, body string) (int, map[string]any) {
	h.t.Helper()
	req, err := http.NewRequestWithContext(ctxT(h.t), method, "http://worktray"+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := h.client.hc.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		h.t.Fatalf("%s %s: %d answer is not a JSON object: %q", method, path, resp.StatusCode, data)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		h.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return resp.StatusCode, m
}

func TestStatus(t *testing.T) {
	h := newHarness(t, Hooks{})
	st, err := h.client.Status(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.Owner == nil || st.Owner.PID != os.Getpid() || !st.Owner.Headless {
		t.Errorf("owner = %+v", st.Owner)
	}
	if st.Schedule.Zone != "Europe/London" || st.Next.IsZero() || len(st.NextRuns) != 5 {
		t.Errorf("status = %+v", st.Snapshot)
	}
	if st.Schedule.Location().String() != "Europe/London" {
		t.Errorf("the client did not load the zone: %v", st.Schedule.Location())
	}
}

func TestScrapeAlreadyRunningAndCancel(t *testing.T) {
	h := newHarness(t, Hooks{})
	ctx := ctxT(t)
	run := h.scrape()
	if run.Status != scheduler.StatusRunning || run.Trigger != scheduler.TriggerManual {
		t.Errorf("run = %+v", run)
	}
	again, err := h.client.Scrape(ctx)
	if !errors.Is(err, scheduler.ErrAlreadyRunning) {
		t.Fatalf("second scrape: %v, want ErrAlreadyRunning", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusConflict || again.ID != run.ID {
		t.Errorf("second scrape answered %+v with run %d, want 409 with run %d", e, again.ID, run.ID)
	}
	st, _ := h.client.Status(ctx)
	if st.Running == nil || st.Running.ID != run.ID || st.Progress == nil {
		t.Errorf("status while running: running %+v progress %+v", st.Running, st.Progress)
	}
	if err := h.client.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	h.waitIdle()
	r, err := h.client.Run(ctx, run.ID)
	if err != nil || r.Status != scheduler.StatusCanceled {
		t.Errorf("run after cancel = %+v, %v", r, err)
	}
	if err := h.client.Cancel(ctx); !errors.Is(err, scheduler.ErrNotRunning) {
		t.Errorf("cancel with nothing running: %v", err)
	}
	if _, err := h.client.Run(ctx, 999); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("unknown run: %v", err)
	}
}

func TestPauseResume(t *testing.T) {
	h := newHarness(t, Hooks{})
	st, err := h.client.Pause(ctxT(t))
	if err != nil || !st.Paused || !st.Next.IsZero() {
		t.Fatalf("pause: %+v, %v", st.Snapshot, err)
	}
	st, err = h.client.Resume(ctxT(t))
	if err != nil || st.Paused || st.Next.IsZero() {
		t.Fatalf("resume: %+v, %v", st.Snapshot, err)
	}
}

func TestHistoryAndOrders(t *testing.T) {
	h := newHarness(t, Hooks{})
	ctx := ctxT(t)
	h.scr.set(func(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
		return scheduler.ScrapeResult{Orders: []scheduler.Order{{PortalID: "1", Number: "W-1"}, {PortalID: "2", Number: "W-2"}}}, nil
	})
	h.scrape()
	h.waitIdle()
	h.scr.set(func(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
		return scheduler.ScrapeResult{}, &scheduler.RunError{Class: scheduler.ClassLoginFailed, Msg: "wrong password"}
	})
	h.scrape()
	h.waitIdle()
	runs, err := h.client.History(ctx, 10, false)
	if err != nil || len(runs) != 2 || runs[0].Status != scheduler.StatusFailed || runs[1].Found != 2 {
		t.Fatalf("history = %+v, %v", runs, err)
	}
	failed, err := h.client.History(ctx, 10, true)
	if err != nil || len(failed) != 1 || failed[0].ErrorClass != scheduler.ClassLoginFailed {
		t.Fatalf("failed history = %+v, %v", failed, err)
	}
	orders, err := h.client.Orders(ctx, false)
	if err != nil || len(orders) != 2 || orders[0].Number != "W-1" {
		t.Fatalf("orders = %+v, %v", orders, err)
	}
	for _, q := range []string{"n=0", "n=x", "n=-1", "failed=maybe"} {
		if code, body := h.raw("GET", "/api/history?"+q, ""); code != 400 || body["code"] != codeBadRequest || body["field"] == "" {
			t.Errorf("history?%s: %d %v, want 400 naming the field", q, code, body)
		}
	}
}

func TestScheduleValidationChangesNothing(t *testing.T) {
	h := newHarness(t, Hooks{})
	ctx := ctxT(t)
	before, err := h.client.Schedule(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bad := before.Schedule
	bad.Minute = 75
	bad.Zone = "Mars/Olympus"
	_, err = h.client.SetSchedule(ctx, bad)
	var ve scheduler.ValidationError
	if !errors.As(err, &ve) || ve.Field("minute") == nil || ve.Field("zone") == nil {
		t.Fatalf("invalid schedule: %v, want a ValidationError naming minute and zone", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusUnprocessableEntity || e.Field != "minute" {
		t.Errorf("answer = %+v, want 422 with field minute", e)
	}
	for _, body := range []string{`{"minute":`, `[1,2]`, `{"minute": "ten"}`, `{"minuet": 5}`, ``, `{} {}`} {
		code, m := h.raw("PUT", "/api/schedule", body)
		if code != http.StatusBadRequest || m["code"] != codeBadRequest {
			t.Errorf("PUT /api/schedule %q: %d %v, want 400", body, code, m)
		}
	}
	if code, m := h.raw("PUT", "/api/schedule", `{"minute": 5}`); code != http.StatusUnprocessableEntity || m["field"] == "" {
		t.Errorf("partial schedule: %d %v, want 422 naming a field", code, m)
	}
	after, err := h.client.Schedule(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before.Schedule, after.Schedule) {
		t.Errorf("the schedule changed:\n%+v\n%+v", before.Schedule, after.Schedule)
	}
	stored, err := h.db.Schedule()
	if err != nil || stored.Minute != before.Schedule.Minute {
		t.Errorf("stored schedule %+v, %v", stored, err)
	}

	good := before.Schedule
	good.Minute, good.EveryHours = 5, 2
	next, err := h.client.Preview(ctx, good, 3)
	if err != nil || len(next) != 3 || next[1].Sub(next[0]) != 2*time.Hour {
		t.Fatalf("preview = %v, %v", next, err)
	}
	if s, _ := h.client.Schedule(ctx); s.Schedule.Minute != before.Schedule.Minute {
		t.Error("preview saved the schedule")
	}
	si, err := h.client.SetSchedule(ctx, good)
	if err != nil || si.Schedule.Minute != 5 || len(si.NextRuns) != 5 || si.NextRuns[0].In(si.Schedule.Location()).Minute() != 5 {
		t.Fatalf("set schedule = %+v, %v", si, err)
	}
}

func TestMalformedCommands(t *testing.T) {
	h := newHarness(t, Hooks{})
	cases := []struct{ method, path, body string }{
		{"POST", "/api/scrape", "garbage"},
		{"POST", "/api/pause", `{"x":1}`},
		{"POST", "/api/window", `{"window": "kitchen"}`},
		{"POST", "/api/window", `{"window": 3}`},
		{"POST", "/api/backup", `{"path": "relative.db"}`},
		{"POST", "/api/backup", `{"path": ""}`},
		{"POST", "/api/diagnose", `{"fix": "yes"}`},
		{"GET", "/api/runs/abc", ""},
		{"POST", "/api/schedule/preview?n=1000", `{}`},
	}
	for _, c := range cases {
		code, m := h.raw(c.method, c.path, c.body)
		if code != http.StatusBadRequest || m["error"] == "" {
			t.Errorf("%s %s %q: %d %v, want 400 with an error", c.method, c.path, c.body, code, m)
		}
	}
	st, _ := h.client.Status(ctxT(t))
	if st.Paused || st.Running != nil {
		t.Errorf("a malformed request changed the state: %+v", st.Snapshot)
	}
	if runs, _ := h.client.History(ctxT(t), 10, false); len(runs) != 0 {
		t.Errorf("a malformed request started a run: %+v", runs)
	}
	if code, m := h.raw("DELETE", "/api/status", ""); code != http.StatusMethodNotAllowed || m["code"] != codeMethod {
		t.Errorf("DELETE /api/status: %d %v", code, m)
	}
	if code, _ := h.raw("GET", "/api/nothing", ""); code != http.StatusNotFound {
		t.Errorf("unknown path: %d", code)
	}
}

func TestShowWindow(t *testing.T) {
	h := newHarness(t, Hooks{})
	if err := h.client.ShowWindow(ctxT(t), "status"); !errors.Is(err, ErrNoWindows) {
		t.Errorf("headless owner: %v, want ErrNoWindows", err)
	}
	shown := make(chan string, 1)
	h2 := newHarness(t, Hooks{ShowWindow: func(name string) error { shown <- name; return nil }})
	if err := h2.client.ShowWindow(ctxT(t), "history"); err != nil {
		t.Fatal(err)
	}
	if got := <-shown; got != "history" {
		t.Errorf("shown %q", got)
	}
}

func TestHooksNotWired(t *testing.T) {
	h := newHarness(t, Hooks{})
	ctx := ctxT(t)
	pw := "secret"
	if _, err := h.client.SetPortal(ctx, PortalInput{URL: "https://x", Password: &pw}); !errors.Is(err, ErrNotSupported) {
		t.Errorf("SetPortal: %v", err)
	}
	if err := h.client.SendTestAlert(ctx); !errors.Is(err, ErrNotSupported) {
		t.Errorf("SendTestAlert: %v", err)
	}
}

func TestHooksWired(t *testing.T) {
	var got PortalInput
	h := newHarness(t, Hooks{
		SetPortal: func(ctx context.Context, in PortalInput) (PortalInfo, error) {
			if in.URL == "bad" {
				return PortalInfo{}, scheduler.ValidationError{{Field: "url", Msg: "not a URL"}}
			}
			got = in
			return PortalInfo{URL: in.URL, Username: in.Username, PasswordSet: in.Password != nil}, nil
		},
		TestLogin: func(ctx context.Context) error {
			return &scheduler.RunError{Class: scheduler.ClassLoginFailed, Msg: "the portal refused the password"}
		},
		Diagnostics: func(ctx context.Context) []Check {
			return []Check{{Name: "chromium", Status: CheckOK, Detail: "found"}}
		},
	})
	ctx := ctxT(t)
	pw := "hunter2"
	info, err := h.client.SetPortal(ctx, PortalInput{URL: "https://p", Username: "me", Password: &pw})
	if err != nil || !info.PasswordSet || got.Password == nil || *got.Password != pw {
		t.Fatalf("SetPortal = %+v, %v", info, err)
	}
	_, err = h.client.SetPortal(ctx, PortalInput{URL: "bad"})
	var ve scheduler.ValidationError
	if !errors.As(err, &ve) || ve.Field("url") == nil {
		t.Errorf("invalid portal: %v", err)
	}
	err = h.client.TestLogin(ctx)
	var re *scheduler.RunError
	if !errors.As(err, &re) || re.Class != scheduler.ClassLoginFailed {
		t.Errorf("TestLogin: %v", err)
	}
	d, err := h.client.Diagnose(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]CheckStatus{}
	for _, c := range d.Checks {
		names[c.Name] = c.Status
	}
	if names["store integrity"] != CheckOK || names["chromium"] != CheckOK || names["running records"] != CheckOK {
		t.Errorf("diagnosis = %+v", d)
	}
}

func TestBackupWhileRunning(t *testing.T) {
	h := newHarness(t, Hooks{})
	path := filepath.Join(h.dir, "copy.db")
	res, err := h.client.Backup(ctxT(t), path)
	if err != nil || res.Bytes == 0 || res.Path != path {
		t.Fatalf("backup = %+v, %v", res, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v %v", fi, err)
	}
}

func TestEventStream(t *testing.T) {
	h := newHarness(t, Hooks{})
	ctx := ctxT(t)
	stream, err := h.client.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	run := h.scrape()
	if err := h.client.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	var kinds []scheduler.EventKind
	for {
		ev, err := stream.Next()
		if err != nil {
			t.Fatalf("after %v: %v", kinds, err)
		}
		if ev.Run == nil || ev.Run.ID != run.ID {
			continue
		}
		kinds = append(kinds, ev.Kind)
		if ev.Kind == scheduler.EventRunFinished {
			if ev.Run.Status != scheduler.StatusCanceled {
				t.Errorf("finished run = %+v", ev.Run)
			}
			break
		}
	}
	want := []scheduler.EventKind{scheduler.EventRunStarted, scheduler.EventRunProgress, scheduler.EventRunFinished}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("events %v, want %v", kinds, want)
	}
}

// TestSlowStreamClientDoesNotBlockTheCore keeps an event stream open without reading it while a
// scrape publishes far more progress than any buffer holds: the scrape finishes anyway, and the
// client, when it reads, is told that it lost events.
func TestSlowStreamClientDoesNotBlockTheCore(t *testing.T) {
	h := newHarness(t, Hooks{})
	ctx := ctxT(t)
	stream, err := h.client.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	const n = 200000
	h.scr.set(func(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
		for i := range n {
			req.Progress(scheduler.Progress{Stage: scheduler.StageList, Orders: i, Percent: i * 100 / n})
		}
		return scheduler.ScrapeResult{EmptyState: true}, nil
	})
	start := time.Now()
	run := h.scrape()
	h.waitIdle()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the scrape took %v with a stalled client", d)
	}
	if r, _ := h.client.Run(ctx, run.ID); r.Status != scheduler.StatusSucceeded {
		t.Errorf("run = %+v", r)
	}
	// The finish event itself may be among the lost ones; the client is told, and re-reads the
	// status (as `worktray scrape` does).
	for {
		ev, err := stream.Next()
		if err != nil {
			t.Fatalf("the client was not told that it lost events: %v", err)
		}
		if ev.Kind == EventDropped && ev.Dropped > 0 {
			break
		}
	}
}

func TestHealthOf(t *testing.T) {
	now := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	ok := &scheduler.Run{ID: 1, Status: scheduler.StatusSucceeded, Finished: now.Add(-time.Hour)}
	missed := &scheduler.Run{ID: 2, Status: scheduler.StatusMissed, Message: "3 slots missed, 07:30–09:30"}
	cases := []struct {
		name    string
		snap    scheduler.Snapshot
		healthy bool
		status  string
	}{
		{"ok", scheduler.Snapshot{Now: now, LastRun: ok, LastSuccess: ok}, true, "ok"},
		{"paused", scheduler.Snapshot{Now: now, Paused: true}, true, "paused"},
		{"overdue", scheduler.Snapshot{Now: now, OverdueSlot: now.Add(-5 * time.Minute), OverdueBy: 5 * time.Minute}, false, "overdue"},
		{"missed", scheduler.Snapshot{Now: now, LastMissed: missed}, false, "missed"},
		{"one failure", scheduler.Snapshot{Now: now, ConsecutiveFailures: 1}, true, "ok"},
		{"failing", scheduler.Snapshot{Now: now, ConsecutiveFailures: 2, LastErrorClass: scheduler.ClassTimeout}, false, "failing"},
	}
	for _, c := range cases {
		h := HealthOf(c.snap, 2)
		if h.Healthy != c.healthy || h.Status != c.status || (!h.Healthy && len(h.Problems) == 0) {
			t.Errorf("%s: %+v", c.name, h)
		}
	}
}

func TestHealthEndpoint(t *testing.T) {
	h := newHarness(t, Hooks{FailureThreshold: func() int { return 1 }})
	hc, err := h.client.Health(ctxT(t))
	if err != nil || !hc.Healthy || hc.FailureThreshold != 1 {
		t.Fatalf("health = %+v, %v", hc, err)
	}
	h.scr.set(func(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
		return scheduler.ScrapeResult{}, &scheduler.RunError{Class: scheduler.ClassTimeout, Msg: "slow"}
	})
	h.scrape()
	h.waitIdle()

	l, err := ListenHealth("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.srv.ServeHealth(ctx, l) }()
	defer func() { cancel(); <-done }()
	hcl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hcl.Get("http://" + l.Addr().String() + "/api/scheduler/health")
	if err != nil {
		t.Fatal(err)
	}
	var got Health
	_ = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || got.Healthy || got.Status != "failing" {
		t.Errorf("health after a failure: %d %+v", resp.StatusCode, got)
	}
	resp, err = hcl.Get("http://" + l.Addr().String() + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the health listener serves /api/status: %d", resp.StatusCode)
	}
}

func TestListenHealthLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:8098", "example.com:80", "[::]:0", "nonsense"} {
		if l, err := ListenHealth(addr); err == nil {
			l.Close()
			t.Errorf("ListenHealth(%q) accepted a non-loopback address", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "127.0.0.2:0"} {
		l, err := ListenHealth(addr)
		if err != nil {
			t.Errorf("ListenHealth(%q): %v", addr, err)
			continue
		}
		if ip := l.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
			t.Errorf("ListenHealth(%q) listens on %v", addr, ip)
		}
		l.Close()
	}
}

func TestNoOwner(t *testing.T) {
	dir := shortTempDir(t)
	c := NewClient(filepath.Join(dir, "control.sock"))
	defer c.Close()
	if _, err := c.Status(ctxT(t)); !errors.Is(err, ErrNoOwner) {
		t.Errorf("missing socket: %v, want ErrNoOwner", err)
	}
	// A socket file left by a dead owner refuses connections.
	stale := filepath.Join(dir, "stale.sock")
	makeStaleSocket(t, stale)
	c2 := NewClient(stale)
	defer c2.Close()
	if _, err := c2.Status(ctxT(t)); !errors.Is(err, ErrNoOwner) {
		t.Errorf("stale socket: %v, want ErrNoOwner", err)
	}
}

// BenchmarkStatusRoundTrip measures GET /api/status over the socket, client to server and back
// (issue 4: at most 2 ms).
func BenchmarkStatusRoundTrip(b *testing.B) {
	h := newHarness(b, Hooks{})
	ctx := context.Background()
	if _, err := h.client.Status(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := h.client.Status(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAlertsReadHook(t *testing.T) {
	ctx := context.Background()
	bare := newHarness(t, Hooks{})
	if _, err := bare.client.Alerts(ctx); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("GET /api/alerts with no hook: %v, want not supported", err)
	}
	h := newHarness(t, Hooks{Alerts: func(context.Context) (AlertsInfo, error) {
		return AlertsInfo{Settings: []byte(`{"failure_threshold":3}`), PushoverKeysSet: true}, nil
	}})
	info, err := h.client.Alerts(ctx)
	if err != nil || !info.PushoverKeysSet || string(info.Settings) != `{"failure_threshold":3}` {
		t.Fatalf("GET /api/alerts: %+v, %v", info, err)
	}
}

func TestRetention(t *testing.T) {
	changed := make(chan struct{}, 4)
	h := newHarness(t, Hooks{RetentionChanged: func() { changed <- struct{}{} }})
	ctx := ctxT(t)
	r, err := h.client.Retention(ctx)
	if err != nil || r != store.DefaultRetention() {
		t.Fatalf("GET /api/retention = %+v, %v; want the default", r, err)
	}

	r, err = h.client.SetRetention(ctx, store.Retention{KeepRuns: 500})
	if err != nil || r.KeepRuns != 500 {
		t.Fatalf("SetRetention(500) = %+v, %v", r, err)
	}
	select {
	case <-changed:
	default:
		t.Error("the RetentionChanged hook was not called")
	}
	if stored, err := h.db.Retention(); err != nil || stored.KeepRuns != 500 {
		t.Errorf("stored retention = %+v, %v", stored, err)
	}

	_, err = h.client.SetRetention(ctx, store.Retention{KeepRuns: 5})
	var ve scheduler.ValidationError
	if !errors.As(err, &ve) || ve.Field("keep_runs") == nil {
		t.Errorf("SetRetention(5) = %v, want a ValidationError naming keep_runs", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusUnprocessableEntity || e.Code != codeInvalid || e.Field != "keep_runs" {
		t.Errorf("answer = %+v, want 422 with field keep_runs", e)
	}
	for _, body := range []string{`{"keep_runs":`, `{"keep_runs": "many"}`, `{"keep": 500}`, ``, `[500]`} {
		if code, m := h.raw("PUT", "/api/retention", body); code != http.StatusBadRequest || m["code"] != codeBadRequest {
			t.Errorf("PUT /api/retention %q: %d %v, want 400", body, code, m)
		}
	}
	select {
	case <-changed:
		t.Error("the hook was called for a value that was not saved")
	default:
	}
	if r, err := h.client.Retention(ctx); err != nil || r.KeepRuns != 500 {
		t.Errorf("after invalid requests: %+v, %v; want 500 unchanged", r, err)
	}
}

// TestHealthWithoutRequestTimeout: a client with no RequestTimeout waits on ctx alone, as for
// every other call (it used to give Health an already expired deadline).
func TestHealthWithoutRequestTimeout(t *testing.T) {
	h := newHarness(t, Hooks{})
	c := NewClient(h.socket)
	defer c.Close()
	c.RequestTimeout = 0
	if hc, err := c.Health(context.Background()); err != nil || !hc.Healthy {
		t.Errorf("Health with RequestTimeout 0: %+v, %v", hc, err)
	}
	if _, err := c.Status(context.Background()); err != nil {
		t.Errorf("Status with RequestTimeout 0: %v", err)
	}
}

// TestHealthTCPIsReduced: the loopback TCP endpoint, which any local user can reach, answers the
// verdict and its counts only (no run record, pid, artifacts or error text), and refuses a Host
// header that is not a loopback name or address (DNS rebinding). The control socket keeps the
// full answer.
func TestHealthTCPIsReduced(t *testing.T) {
	const secret = "portal.example.com said: account acme-1234 locked"
	h := newHarness(t, Hooks{FailureThreshold: func() int { return 1 }})
	h.scr.set(func(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
		return scheduler.ScrapeResult{}, &scheduler.RunError{Class: scheduler.ClassLoginFailed, Msg: secret}
	})
	h.scrape()
	h.waitIdle()

	l, err := ListenHealth("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.srv.ServeHealth(ctx, l) }()
	defer func() { cancel(); <-done }()
	hcl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(host, path string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctxT(t), http.MethodGet, "http://"+l.Addr().String()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := hcl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	_, port, _ := net.SplitHostPort(l.Addr().String())
	for _, host := range []string{"", "localhost:" + port, "localhost", "127.0.0.1", "[::1]:" + port, "LOCALHOST."} {
		code, body := get(host, "/api/scheduler/health")
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("Host %q: %d %q", host, code, body)
		}
		if code != http.StatusServiceUnavailable || m["status"] != "failing" || m["healthy"] != false {
			t.Errorf("Host %q: %d %s", host, code, body)
		}
		var extra []string
		for k := range m {
			switch k {
			case "healthy", "status", "problems", "consecutive_failures", "failure_threshold":
			default:
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 || strings.Contains(body, "acme-1234") || strings.Contains(body, "portal.example.com") {
			t.Errorf("Host %q: the TCP health answer has more than the verdict and counts (%q) or the error text: %s",
				host, extra, body)
		}
		if !strings.Contains(body, view.ClassText(scheduler.ClassLoginFailed)) || strings.Contains(body, string(scheduler.ClassLoginFailed)) {
			t.Errorf("Host %q: the problem does not say the error class in words (never its code): %s", host, body)
		}
	}
	for _, host := range []string{"evil.example", "evil.example:" + port, "127.0.0.1.evil.example", "192.0.2.1", "localhost.evil.example"} {
		if code, body := get(host, "/api/scheduler/health"); code != http.StatusBadRequest || !strings.Contains(body, "loopback") {
			t.Errorf("Host %q was answered: %d %s", host, code, body)
		}
	}

	// The control socket's answer is the full one.
	full, err := h.client.Health(ctxT(t))
	if err != nil || full.LastRun == nil || !strings.Contains(strings.Join(full.Problems, " "), "acme-1234") {
		t.Errorf("socket health = %+v, %v; want the last run and the error", full, err)
	}
}

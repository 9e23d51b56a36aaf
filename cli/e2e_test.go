package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"worktray/app/view"
	"worktray/control"
	"worktray/paths"
	"worktray/scheduler"
	"worktray/scraper"
	"worktray/secret"
	"worktray/store"
)

// These tests run the worktray binary as real processes: a headless owner on a temporary data
// directory, and the commands as its clients.

// ownerProc is a running owner process.
type ownerProc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
}

// syncBuffer is a buffer the process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// wtCommand returns an exec.Cmd of the binary with a clean environment (no display, no data-dir
// variable).
func wtCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "DISPLAY" || k == "WAYLAND_DISPLAY" || k == paths.EnvHome {
			continue
		}
		env = append(env, kv)
	}
	// Fyne, linked into the binary for `worktray ui`, complains about the C locale.
	cmd.Env = append(env, "LANG=en_US.UTF-8")
	return cmd
}

// startOwner starts `worktray run --headless --data-dir dir` and waits until it answers.
func startOwner(t testing.TB, dir string, extra ...string) *ownerProc {
	t.Helper()
	o := spawnOwner(t, dir, extra...)
	c := control.NewClient(paths.Resolve(dir).Socket)
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st, err := c.Status(context.Background())
		if err == nil && st.Owner != nil && st.Owner.PID == o.cmd.Process.Pid {
			return o
		}
		select {
		case err := <-o.done:
			t.Fatalf("the owner exited: %v\n%s", err, o.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the owner does not answer: %v\n%s", err, o.stderr)
		}
	}
}

func spawnOwner(t testing.TB, dir string, extra ...string) *ownerProc {
	t.Helper()
	cmd := wtCommand(append([]string{"run", "--headless", "--data-dir", dir}, extra...)...)
	o := &ownerProc{cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = o.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { o.done <- cmd.Wait() }()
	t.Cleanup(func() { o.stop(t) })
	return o
}

// stop ends the owner with SIGTERM and waits for it.
func (o *ownerProc) stop(t testing.TB) {
	if o.cmd.ProcessState != nil {
		return
	}
	_ = o.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-o.done:
	case <-time.After(15 * time.Second):
		_ = o.cmd.Process.Kill()
		<-o.done
		t.Errorf("the owner did not stop on SIGTERM:\n%s", o.stderr)
	}
}

// kill9 kills the owner with SIGKILL, as a crash would.
func (o *ownerProc) kill9() {
	_ = o.cmd.Process.Kill()
	<-o.done
}

// cli runs the binary with a command against dir and returns its output.
func cli(t testing.TB, dir string, stdin string, args ...string) result {
	t.Helper()
	cmd := wtCommand(append(args, "--data-dir", dir)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errb, strings.NewReader(stdin)
	err := cmd.Run()
	code := 0
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		code = xe.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func expect(t *testing.T, r result, code int, contains ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d:\n%v", r.code, code, r)
		return
	}
	for _, s := range contains {
		if !strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("output lacks %q:\n%v", s, r)
		}
	}
}

func TestCommandsWithOwner(t *testing.T) {
	dir := shortTempDir(t)
	o := startOwner(t, dir)
	pid := strconv.Itoa(o.cmd.Process.Pid)

	// No portal yet: status says so and exits ExitNotSetUp.
	expect(t, cli(t, dir, "", "status"), ExitNotSetUp, "Owner:", "running (pid "+pid, "Next run:", "none until a portal is set up",
		"no portal is set up")
	r := cli(t, dir, "", "status", "--json")
	var st control.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Owner == nil || st.Owner.PID != o.cmd.Process.Pid {
		t.Errorf("status --json: %v %v", err, r)
	}
	// No portal is configured: the scrape fails as a configuration error, never as the portal
	// failing, and nobody is told that worktray retries by itself.
	r = cli(t, dir, "", "scrape")
	expect(t, r, ExitConfig, view.ClassText(scheduler.ClassConfig), "no portal is configured")
	for _, absent := range []string{view.ClassText(scheduler.ClassPortalError), "retries by itself", "config_error"} {
		if strings.Contains(r.stdout+r.stderr, absent) {
			t.Errorf("a scrape with no portal says %q:\n%v", absent, r)
		}
	}
	expect(t, cli(t, dir, "", "history"), 0, "RUN", "manual", "failed")
	expect(t, cli(t, dir, "", "history", "-n", "1", "--failed", "--json"), 0, `"error_class": "config_error"`)
	expect(t, cli(t, dir, "", "orders"), 0, "no work orders stored")
	expect(t, cli(t, dir, "", "orders", "--csv"), 0, "number,mark,visit_date", "wrote 0 work orders (CSV) to standard output")
	expect(t, cli(t, dir, "", "orders", "--json"), 0, `"orders": []`)
	expect(t, cli(t, dir, "", "cancel"), ExitConflict, "no scrape is running")
	expect(t, cli(t, dir, "", "pause"), 0, "paused")
	expect(t, cli(t, dir, "", "status"), ExitNotSetUp, "Next run:  paused")
	expect(t, cli(t, dir, "", "resume"), 0, "resumed; next run")
	expect(t, cli(t, dir, "", "schedule", "show"), 0, "every hour at :30", "Next runs:")

	before := cli(t, dir, "", "schedule", "show", "--json").stdout
	expect(t, cli(t, dir, "", "schedule", "set", "--minute", "75", "--zone", "Mars/Base"), ExitInvalid,
		"nothing changed", "minute (--minute)", "zone (--zone)")
	expect(t, cli(t, dir, "", "schedule", "set", "--weekdays", "funday"), ExitInvalid, "weekdays")
	if after := cli(t, dir, "", "schedule", "show", "--json").stdout; after != before {
		t.Errorf("an invalid schedule changed it:\n%s\n%s", before, after)
	}
	r = cli(t, dir, "", "schedule", "set", "--minute", "15", "--every", "2", "--weekdays", "mon-fri", "--grace", "90m")
	expect(t, r, 0, "schedule saved", "every 2 hours at :15", "Mon–Fri", "grace 90 min")
	if n := strings.Count(r.stdout, " in "); n != 5 {
		t.Errorf("want the next five runs, got %d:\n%s", n, r.stdout)
	}
	expect(t, cli(t, dir, "", "status"), ExitNotSetUp, "every 2 hours at :15")

	backup := filepath.Join(dir, "copy.db")
	expect(t, cli(t, dir, "", "backup", backup), 0, "backed up the store to "+backup)
	if db, err := store.Open(backup, store.Options{ReadOnly: true}); err != nil {
		t.Errorf("the backup does not open: %v", err)
	} else {
		if sc, err := db.Schedule(); err != nil || sc.Minute != 15 {
			t.Errorf("backup schedule %+v %v", sc, err)
		}
		db.Close()
	}
	// No portal yet: diagnose says so and fails.
	expect(t, cli(t, dir, "", "diagnose"), ExitUnhealthy, "✓ owner", "running: pid "+pid, "✗ portal", "no portal is configured",
		"portal password", "store integrity", "socket", "0600", "logs")

	// Settings without a desktop: the owner validates. A wrong value changes nothing.
	expect(t, cli(t, dir, "secret\n", "portal", "set", "--url", "not a url", "--username", "me"), ExitInvalid, "url")
	r = cli(t, dir, "hunter2\n", "portal", "set", "--url", "https://portal.example.com", "--username", "me", "--profile", "demo")
	expect(t, r, 0, "https://portal.example.com", "Password:  set (hidden)")
	if strings.Contains(r.stdout+r.stderr, "hunter2") {
		t.Error("the password was printed")
	}
	// With a portal and its password, nothing fails.
	expect(t, cli(t, dir, "", "diagnose"), 0, "✓ portal ", "✓ portal password", "set (kept in the file)")
	expect(t, cli(t, dir, "", "diagnose", "--fix", "--json"), 0, `"healthy": true`)
	if r := cli(t, dir, "", "diagnose", "--json"); strings.Contains(r.stdout, "hunter2") {
		t.Error("diagnose shows the password")
	}
	expect(t, cli(t, dir, "", "alerts", "set", "--threshold", "zero"), ExitInvalid, "failure_threshold (--threshold)")
	expect(t, cli(t, dir, "", "frobnicate"), ExitUsage)
	expect(t, cli(t, dir, "", "history", "-n", "0"), ExitUsage)
}

func TestCommandsWithoutOwner(t *testing.T) {
	dir := shortTempDir(t)
	// Never ran here: read commands say so.
	expect(t, cli(t, dir, "", "status"), ExitNotSetUp, "never run")
	expect(t, cli(t, dir, "", "scrape"), ExitNoOwner, "worktray is not running", "run --headless")

	o := startOwner(t, dir)
	expect(t, cli(t, dir, "", "scrape"), ExitConfig) // no portal is set up: config_error
	o.stop(t)

	note := "worktray is not running; showing the stored state"
	expect(t, cli(t, dir, "", "status"), ExitNotSetUp, "not running (showing the stored state)", "Last run:", "Next run:  none\n",
		"worktray is not running, so nothing is scheduled")
	r := cli(t, dir, "", "status", "--json")
	if !strings.Contains(r.stderr, note) || !json.Valid([]byte(r.stdout)) || strings.Contains(r.stdout, `"owner"`) {
		t.Errorf("status --json without owner: %v", r)
	}
	expect(t, cli(t, dir, "", "history"), 0, note, "manual")
	expect(t, cli(t, dir, "", "orders"), 0, note, "no work orders stored")
	expect(t, cli(t, dir, "", "orders", "--csv"), 0, "portal_id")
	expect(t, cli(t, dir, "", "schedule", "show"), 0, note, "every hour at :30")
	expect(t, cli(t, dir, "", "backup", filepath.Join(dir, "b.db")), 0, "copying the store directly", "backed up")
	expect(t, cli(t, dir, "", "diagnose"), ExitUnhealthy, "✗ owner", "worktray is not running", "store integrity")
	for _, cmd := range [][]string{{"scrape"}, {"cancel"}, {"pause"}, {"resume"}, {"alerts", "test"}, {"portal", "test"}} {
		expect(t, cli(t, dir, "", cmd...), ExitNoOwner, "worktray is not running", "worktray run --headless")
	}
	// schedule set with no owner writes the store with the core's validation.
	expect(t, cli(t, dir, "", "schedule", "set", "--minute", "99"), ExitInvalid, "minute")
	expect(t, cli(t, dir, "", "schedule", "set", "--minute", "5"), 0, "saved to the store", "every hour at :05")
	o2 := startOwner(t, dir)
	expect(t, cli(t, dir, "", "status"), ExitNotSetUp, "every hour at :05", "pid "+strconv.Itoa(o2.cmd.Process.Pid))
}

// TestRetentionCommands: `retention show|set` without an owner reads the store read-only and
// writes it with the core's validation; with an owner, set goes through the owner, which prunes
// the history at once.
func TestRetentionCommands(t *testing.T) {
	dir := shortTempDir(t)
	note := "worktray is not running; showing the stored state"
	// Never ran here: show says the default; an invalid set changes nothing.
	expect(t, cli(t, dir, "", "retention", "show"), 0, note, "the last 10,000 runs")
	expect(t, cli(t, dir, "", "retention", "set", "--keep", "5"), ExitInvalid, "nothing changed", "keep_runs (--keep)", "between 100 and 1000000")
	expect(t, cli(t, dir, "", "retention", "set", "--keep", "lots"), ExitInvalid, "keep_runs (--keep)", "not a whole number")
	expect(t, cli(t, dir, "", "retention", "set"), ExitUsage, "--keep")
	expect(t, cli(t, dir, "", "retention", "prune"), ExitUsage, "unknown subcommand")

	// 150 finished runs in the store, then a retention of 140 saved with no owner running.
	p := paths.Resolve(dir)
	if err := p.EnsureDirs(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(p.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	slot := time.Date(2020, 1, 6, 9, 30, 0, 0, time.UTC)
	for i := range 150 {
		run := scheduler.Run{Trigger: scheduler.TriggerScheduled, Slot: slot.Add(time.Duration(i) * time.Hour), Attempt: 1,
			Status: scheduler.StatusSucceeded, Started: slot.Add(time.Duration(i) * time.Hour), Finished: slot.Add(time.Duration(i)*time.Hour + time.Minute)}
		if _, err := db.ClaimRun(run); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	expect(t, cli(t, dir, "", "retention", "set", "--keep", "140"), 0, "saved to the store", "the last 140 runs")
	r := cli(t, dir, "", "retention", "show", "--json")
	var got store.Retention
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got.KeepRuns != 140 || !strings.Contains(r.stderr, note) {
		t.Errorf("retention show --json without owner: %v", r)
	}

	// The owner prunes to the stored retention when it starts, and again when it changes.
	o := startOwner(t, dir)
	runs := func() int {
		t.Helper()
		var h struct{ Runs []scheduler.Run }
		r := cli(t, dir, "", "history", "-n", "1000", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &h); err != nil {
			t.Fatalf("history --json: %v %v", err, r)
		}
		return len(h.Runs)
	}
	waitRuns := func(want int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			n := runs()
			if n == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d runs, want %d:\n%s", n, want, o.stderr)
			}
		}
	}
	waitRuns(140)
	expect(t, cli(t, dir, "", "retention", "show"), 0, "the last 140 runs")
	expect(t, cli(t, dir, "", "retention", "set", "--keep", "99"), ExitInvalid, "nothing changed", "keep_runs (--keep)")
	expect(t, cli(t, dir, "", "retention", "show", "--json"), 0, `"keep_runs": 140`)
	expect(t, cli(t, dir, "", "retention", "set", "--keep", "100"), 0, "retention saved", "the last 100 runs")
	waitRuns(100)
	expect(t, cli(t, dir, "", "retention", "show", "--json"), 0, `"keep_runs": 100`)
	for _, want := range []string{`msg="history pruned" count=10 keep_runs=140`, `msg="history pruned" count=40 keep_runs=100`} {
		if !strings.Contains(o.stderr.String(), want) {
			t.Errorf("the owner's log lacks %s:\n%s", want, o.stderr)
		}
	}
}

// TestSingleInstance: of owners started together exactly one owns; the others exit saying its pid.
// A plain second `worktray` (desktop) asks the owner to show its window and exits 0.
func TestSingleInstance(t *testing.T) {
	dir := shortTempDir(t)
	var owners []*ownerProc
	for range 3 {
		owners = append(owners, spawnOwner(t, dir))
	}
	c := control.NewClient(paths.Resolve(dir).Socket)
	defer c.Close()
	var st control.Status
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if st, err = c.Status(context.Background()); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	ownerPID := st.Owner.PID
	running := 0
	for _, o := range owners {
		if o.cmd.Process.Pid == ownerPID {
			running++
			continue
		}
		select {
		case <-o.done:
			if code := o.cmd.ProcessState.ExitCode(); code == 0 || !strings.Contains(o.stderr.String(), "already running (pid "+strconv.Itoa(ownerPID)+")") {
				t.Errorf("second owner: exit %d\n%s", code, o.stderr)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("a second owner is still running:\n%s", o.stderr)
		}
	}
	if running != 1 {
		t.Fatalf("%d owners", running)
	}
	// A plain launch with a desktop forwards to the owner and exits 0.
	cmd := wtCommand("--data-dir", dir)
	cmd.Env = append(cmd.Env, "DISPLAY=:99")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "already running") {
		t.Errorf("plain second launch: %v\n%s", err, out)
	}
	if st2, err := c.Status(context.Background()); err != nil || st2.Owner.PID != ownerPID {
		t.Errorf("the owner changed: %v %v", st2.Owner, err)
	}
}

// TestKilledOwnerIsReplaced: after kill -9 the socket file is left behind; the next launch becomes
// the owner anyway.
func TestKilledOwnerIsReplaced(t *testing.T) {
	dir := shortTempDir(t)
	p := paths.Resolve(dir)
	o := startOwner(t, dir)
	o.kill9()
	if _, err := os.Lstat(p.Socket); err != nil {
		t.Fatalf("expected the killed owner's socket to stay behind: %v", err)
	}
	expect(t, cli(t, dir, "", "status"), ExitNotSetUp, "worktray is not running")
	expect(t, cli(t, dir, "", "pause"), ExitNoOwner, "not running")
	o2 := startOwner(t, dir)
	expect(t, cli(t, dir, "", "status"), ExitNotSetUp, "running (pid "+strconv.Itoa(o2.cmd.Process.Pid))
	if !strings.Contains(o2.stderr.String(), "stale control socket") {
		t.Errorf("the new owner did not say it removed the stale socket:\n%s", o2.stderr)
	}
}

// TestMalformedRequests sends bad requests to a real owner: each gets a 4xx JSON error and
// changes nothing.
func TestMalformedRequests(t *testing.T) {
	dir := shortTempDir(t)
	startOwner(t, dir)
	sock := paths.Resolve(dir).Socket
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	defer hc.CloseIdleConnections()
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, "http://x"+path, strings.NewReader(body))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, before := do("GET", "/api/schedule", "")
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/api/schedule", "{not json"},
		{"PUT", "/api/schedule", `{"minute": 5}`},
		{"PUT", "/api/schedule", `{"minute": 5, "evil": true}`},
		{"POST", "/api/scrape", "please"},
		{"POST", "/api/window", `{"window": "../../etc"}`},
		{"POST", "/api/backup", `{"path": "x.db"}`},
		{"GET", "/api/history?n=lots", ""},
		{"DELETE", "/api/scrape", ""},
	} {
		code, body := do(c.method, c.path, c.body)
		var e struct{ Error string }
		if code < 400 || code >= 500 || json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
			t.Errorf("%s %s %q: %d %s", c.method, c.path, c.body, code, body)
		}
	}
	if _, after := do("GET", "/api/schedule", ""); stripNext(after) != stripNext(before) {
		t.Errorf("the schedule changed:\n%s\n%s", before, after)
	}
	if code, body := do("GET", "/api/history", ""); code != 200 || strings.Contains(body, `"id"`) {
		t.Errorf("a malformed request started a run: %s", body)
	}
}

func stripNext(s string) string {
	var si control.ScheduleInfo
	_ = json.Unmarshal([]byte(s), &si)
	si.NextRuns = nil
	b, _ := json.Marshal(si)
	return string(b)
}

func TestHealthAddr(t *testing.T) {
	dir := shortTempDir(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	startOwner(t, dir, "--health-addr", addr)
	resp, err := http.Get("http://" + addr + "/api/scheduler/health")
	if err != nil {
		t.Fatal(err)
	}
	var h control.Health
	_ = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if resp.StatusCode != 200 || !h.Healthy {
		t.Errorf("health: %d %+v", resp.StatusCode, h)
	}

	dir2 := shortTempDir(t)
	cmd := wtCommand("run", "--headless", "--data-dir", dir2, "--health-addr", "0.0.0.0:0")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "loopback") {
		t.Errorf("a non-loopback health address was accepted: %v\n%s", err, out)
	}
}

// TestScrapeExitCodesReal scrapes with the real scraper: no portal, a missing browser, a wrong
// password at the demo portal, the demo portal itself, and a cancel.
func TestScrapeExitCodesReal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	if _, err := scraper.FindBrowser(""); err != nil {
		t.Skipf("no Chromium: %v", err)
	}
	configure := func(dir string, s scraper.Settings, password string) {
		p := paths.Resolve(dir)
		if err := p.EnsureDirs(); err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(p.DB, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.PutSetting(scraper.SettingsKey, s); err != nil {
			t.Fatal(err)
		}
		// With --data-dir the owner keeps secrets in a file under the config directory.
		sec, err := secret.Open(p.ConfigDir, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := sec.Set(secret.PortalPassword, password); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("browser_failed", func(t *testing.T) {
		dir := shortTempDir(t)
		configure(dir, scraper.Settings{URL: "http://127.0.0.1:9", Profile: "demo", Username: "x", BrowserPath: "/nonexistent/chromium"}, "pw")
		startOwner(t, dir)
		expect(t, cli(t, dir, "", "scrape"), ExitBrowserFailed, view.ClassText(scheduler.ClassBrowserFailed))
	})
	t.Run("login_failed", func(t *testing.T) {
		portal := wtCommand("demo-portal", "--addr", freeAddr(t))
		addr := portal.Args[len(portal.Args)-1]
		if err := portal.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = portal.Process.Signal(syscall.SIGTERM); _ = portal.Wait() }()
		waitTCP(t, addr)
		dir := shortTempDir(t)
		configure(dir, scraper.Settings{URL: "http://" + addr, Profile: "demo", Username: "demo@example.com"}, "not-the-password")
		startOwner(t, dir)
		r := cli(t, dir, "", "scrape")
		expect(t, r, ExitLoginFailed, view.ClassText(scheduler.ClassLoginFailed))
		if strings.Contains(r.stdout+r.stderr, "not-the-password") {
			t.Error("the password was printed")
		}
	})
	t.Run("demo success and cancel", func(t *testing.T) {
		dir := shortTempDir(t)
		startOwner(t, dir, "--demo")
		// The demo scrapes at once; `scrape` follows that run or starts one.
		expect(t, cli(t, dir, "", "scrape"), ExitOK, "succeeded")
		expect(t, cli(t, dir, "", "orders"), 0, "52 work orders")

		done := make(chan result, 1)
		go func() { done <- cli(t, dir, "", "scrape") }()
		c := control.NewClient(paths.Resolve(dir).Socket)
		defer c.Close()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if st, err := c.Status(context.Background()); err == nil && st.Running != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the scrape did not start")
			}
		}
		expect(t, cli(t, dir, "", "cancel"), 0, "canceling run")
		r := <-done
		if r.code != ExitCanceled && r.code != ExitOK {
			t.Errorf("canceled scrape: %v", r)
		} else if r.code == ExitOK {
			t.Log("the scrape finished before the cancel reached it")
		}
	})
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitTCP(t testing.TB, addr string) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("nothing listens on %s", addr)
}

// BenchmarkStatusProcess runs `worktray status` as a whole process with an owner running (issue
// 4: median at most 30 ms) and reports the median.
func BenchmarkStatusProcess(b *testing.B) {
	dir := shortTempDir(b)
	startOwner(b, dir)
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		cmd := wtCommand("status", "--data-dir", dir)
		// No portal is set up there: status exits ExitNotSetUp, which is its answer, not a failure.
		if out, err := cmd.CombinedOutput(); err != nil && cmd.ProcessState.ExitCode() != ExitNotSetUp {
			b.Fatalf("%v\n%s", err, out)
		}
		times = append(times, time.Since(start))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
}

// BenchmarkStatusRoundTripProcess measures GET /api/status over the socket of a real owner
// process (issue 4: at most 2 ms).
func BenchmarkStatusRoundTripProcess(b *testing.B) {
	dir := shortTempDir(b)
	startOwner(b, dir)
	c := control.NewClient(paths.Resolve(dir).Socket)
	defer c.Close()
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := c.Status(context.Background()); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
}

package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"worktray/scheduler"
	"worktray/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	goodToken  = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
	goodUser   = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
	otherUser  = "gznej3rKEVAvPUxu9vvNnqpmZpokzF"
	otherToken = "bq7Lw2XnM4kP9sT1vY6cR3dF8hJ0aZ"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// pushRequest is one request the fake Pushover server received.
type pushRequest struct {
	At             time.Time
	Token, User    string
	Title, Message string
	Priority       string
	Status         int
}

// fakePushover speaks Pushover's messages.json protocol. respond decides each reply; nil means
// 200 with limit headers.
type fakePushover struct {
	srv   *httptest.Server
	clock clockwork.Clock

	mu      sync.Mutex
	reqs    []pushRequest
	respond func(r pushRequest) (status int, header http.Header, body any)
}

func newFakePushover(t *testing.T, clock clockwork.Clock) *fakePushover {
	f := &fakePushover{clock: clock}
	f.srv = httptest.NewServer(http.HandlerFunc(f.handle))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakePushover) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/messages.json" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := pushRequest{At: f.clock.Now(), Token: r.PostForm.Get("token"), User: r.PostForm.Get("user"),
		Title: r.PostForm.Get("title"), Message: r.PostForm.Get("message"), Priority: r.PostForm.Get("priority")}
	f.mu.Lock()
	respond := f.respond
	f.mu.Unlock()
	status, header, body := http.StatusOK, http.Header{}, any(map[string]any{"status": 1, "request": "req-1"})
	header.Set("X-Limit-App-Limit", "10000")
	header.Set("X-Limit-App-Remaining", "9999")
	header.Set("X-Limit-App-Reset", strconv.FormatInt(t0.Add(30*24*time.Hour).Unix(), 10))
	if respond != nil {
		status, header, body = respond(req)
	}
	req.Status = status
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	for k, v := range header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

func (f *fakePushover) setRespond(fn func(r pushRequest) (int, http.Header, any)) {
	f.mu.Lock()
	f.respond = fn
	f.mu.Unlock()
}

func (f *fakePushover) requests() []pushRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]pushRequest(nil), f.reqs...)
}

// delivered returns the titles Pushover accepted, in order.
func (f *fakePushover) delivered() []string {
	var out []string
	for _, r := range f.requests() {
		if r.Status/100 == 2 {
			out = append(out, r.Title)
		}
	}
	return out
}

// fakeCreds are settable Pushover credentials.
type fakeCreds struct {
	mu          sync.Mutex
	token, user string
}

func (c *fakeCreds) PushoverCredentials() (string, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token, c.user, nil
}

func (c *fakeCreds) set(token, user string) {
	c.mu.Lock()
	c.token, c.user = token, user
	c.mu.Unlock()
}

// fakeDesktop records desktop notifications.
type fakeDesktop struct {
	mu        sync.Mutex
	shown     []string
	withdrawn []scheduler.AlertKind
	err       error
}

func (d *fakeDesktop) Show(_ context.Context, n Notification) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	d.shown = append(d.shown, n.Title)
	return nil
}

func (d *fakeDesktop) Withdraw(_ context.Context, kinds ...scheduler.AlertKind) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.withdrawn = append(d.withdrawn, kinds...)
	return nil
}

func (d *fakeDesktop) titles() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.shown...)
}

// harness runs a Notifier over a real bbolt store on a fake clock. Each pass of the notifier's
// loop ends in the idle hook, which hands the test the instant the loop will wake at; the loop
// waits there until the test takes it, so the test always knows the loop is idle.
type harness struct {
	t       *testing.T
	fc      *clockwork.FakeClock
	path    string
	db      *store.DB
	push    *fakePushover
	creds   *fakeCreds
	desk    *fakeDesktop
	policy  *Policy
	tweak   func(*Config)
	n       *Notifier
	cancel  context.CancelFunc
	done    chan error
	idle    chan time.Time
	wake    time.Time
	running bool
}

func newHarness(t *testing.T, s Settings) *harness {
	t.Helper()
	h := &harness{t: t, fc: clockwork.NewFakeClockAt(t0), path: filepath.Join(t.TempDir(), "worktray.db"),
		creds: &fakeCreds{token: goodToken, user: goodUser}, desk: &fakeDesktop{}}
	h.push = newFakePushover(t, h.fc)
	h.openStore()
	if err := h.db.PutSetting(SettingsKey, s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.stop()
		if h.db != nil {
			h.db.Close()
		}
	})
	return h
}

func (h *harness) openStore() {
	h.t.Helper()
	db, err := store.Open(h.path, store.Options{Clock: h.fc})
	if err != nil {
		h.t.Fatal(err)
	}
	h.db = db
}

// restart stops the notifier, closes and reopens the store (as a new process would) and starts
// a new notifier over it.
func (h *harness) restart() {
	h.t.Helper()
	h.stop()
	if err := h.db.Close(); err != nil {
		h.t.Fatal(err)
	}
	h.openStore()
	h.start()
}

func (h *harness) start() {
	h.t.Helper()
	cfg := Config{
		Outbox: h.db, Settings: h.db, Credentials: h.creds, Desktop: h.desk, Delivery: h.db,
		Clock: h.fc, PushoverEndpoint: h.push.srv.URL, SendTimeout: 5 * time.Second,
	}
	if h.policy != nil {
		cfg.Policy, cfg.State = h.policy, h.db
	}
	if h.tweak != nil {
		h.tweak(&cfg)
	}
	n, err := New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.n, h.cancel, h.done, h.idle = n, cancel, make(chan error, 1), make(chan time.Time)
	idle := h.idle
	n.idle = func(w time.Time) {
		select {
		case idle <- w:
		case <-ctx.Done():
		}
	}
	h.running = true
	go func() { h.done <- n.Run(ctx) }()
	h.waitIdle()
}

func (h *harness) stop() {
	if !h.running {
		return
	}
	h.running = false
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Fatal("Run did not return after cancel")
	}
}

// waitIdle waits until the loop finished a pass and armed its timer.
func (h *harness) waitIdle() {
	h.t.Helper()
	select {
	case h.wake = <-h.idle:
	case <-time.After(10 * time.Second):
		h.t.Fatal("the notifier did not finish its pass")
	}
}

// raise enqueues alerts as the scheduler would and kicks the notifier.
func (h *harness) raise(alerts ...scheduler.Alert) {
	h.t.Helper()
	for i := range alerts {
		if alerts[i].Created.IsZero() {
			alerts[i].Created = h.fc.Now()
		}
	}
	if err := h.db.EnqueueAlerts(alerts); err != nil {
		h.t.Fatal(err)
	}
	h.n.Kick()
	h.waitIdle()
}

// kick wakes the loop and waits for its pass.
func (h *harness) kick() {
	h.t.Helper()
	h.n.Kick()
	h.waitIdle()
}

// runUntil moves the fake clock from wake-up to wake-up until it reaches until.
func (h *harness) runUntil(until time.Time) {
	h.t.Helper()
	for h.fc.Now().Before(until) {
		next := h.wake
		if next.After(until) {
			h.fc.Advance(until.Sub(h.fc.Now()))
			return // the timer did not fire: the loop stays idle
		}
		h.fc.Advance(next.Sub(h.fc.Now()))
		h.waitIdle()
	}
}

func (h *harness) pending() []scheduler.Alert {
	h.t.Helper()
	p, err := h.db.PendingAlerts(0)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

func alert(title string, prio int) scheduler.Alert {
	return scheduler.Alert{Kind: scheduler.AlertFailing, Title: title, Message: "message of " + title, Priority: prio, Pushover: true, Desktop: true}
}

func pushoverOn() Settings {
	s := DefaultSettings()
	s.PushoverEnabled = true
	return s
}

func down(r pushRequest) (int, http.Header, any) {
	return http.StatusServiceUnavailable, nil, nil
}

func titles(n int) []string {
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, fmt.Sprintf("alert %d", i))
	}
	return out
}

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"worktray/control"
	"worktray/notify"
	"worktray/paths"
	"worktray/scheduler"
	"worktray/store"
)

// TestRenotifyWholeMinutes: --renotify takes whole minutes or a duration of whole minutes; 0
// means never. Anything that would round (30s used to become 0, never) is a field error.
func TestRenotifyWholeMinutes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int // -1: a field error
	}{
		{"45", 45}, {"0", 0}, {"6h", 360}, {"90m", 90}, {"1h30m", 90}, {"1.5h", 90}, {"0s", 0},
		{"30s", -1}, {"90s", -1}, {"1m30s", -1}, {"-5", -1}, {"-1h", -1}, {"soon", -1}, {"", -1},
	} {
		v := c.in
		in, err := alertsInput(map[string]bool{"renotify": true}, map[string]*string{"renotify": &v})
		var ve scheduler.ValidationError
		got := "nil"
		if in.RenotifyMinutes != nil {
			got = strconv.Itoa(*in.RenotifyMinutes)
		}
		switch {
		case c.want < 0:
			if !errors.As(err, &ve) || len(ve) != 1 || ve[0].Field != "renotify_minutes" || in.RenotifyMinutes != nil {
				t.Errorf("--renotify %q: %v, minutes %s; want a renotify_minutes error", c.in, err, got)
			}
		case err != nil || got != strconv.Itoa(c.want):
			t.Errorf("--renotify %q: %v, minutes %s; want %d", c.in, err, got, c.want)
		}
	}
}

// TestAlertsSetRenotifySeconds: `alerts set --renotify 30s` changes nothing and names the field.
func TestAlertsSetRenotifySeconds(t *testing.T) {
	r := runMain(ctxT(t, 10*time.Second), shortTempDir(t), "alerts", "set", "--renotify", "30s")
	if r.code != ExitInvalid || !strings.Contains(r.stderr, "renotify_minutes (--renotify)") {
		t.Errorf("want exit %d naming renotify_minutes; got %v", ExitInvalid, r)
	}
}

// TestSecretReadHonoursContext: a secret read from stdin gives up when ctx is done (Ctrl-C), and
// a read before that answers the line.
func TestSecretReadHonoursContext(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	e := &env{io: IO{In: pr, Out: io.Discard, Err: io.Discard}}
	r := e.secrets()
	go func() { _, _ = io.WriteString(pw, "first\n") }()
	if s, ok, err := r.read(ctxT(t, 5*time.Second), "secret: "); s != "first" || !ok || err != nil {
		t.Fatalf("read = %q, %v, %v", s, ok, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() { _, _, err := r.read(ctx, "secret: "); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("read after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the read ignored the canceled context")
	}
	if _, _, err := r.read(context.Background(), "secret: "); !errors.Is(err, context.Canceled) {
		t.Errorf("a read after giving up: %v, want the context error again", err)
	}
}

// TestPortalSetPromptCanceled: Ctrl-C at the password prompt of `portal set` ends the command
// (exit 130) instead of being swallowed by the read.
func TestPortalSetPromptCanceled(t *testing.T) {
	// `portal set` reads the settings (for their revision) before it asks for the password.
	o := startInProcessOwnerWith(t, control.Hooks{Portal: func(context.Context) (control.PortalInfo, error) {
		return control.PortalInfo{Revision: 1}, nil
	}})
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := &readWatch{r: pr, reading: make(chan struct{})}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, "portal", []string{"set", "--url", "https://portal.example.com", "--username", "me",
			"--data-dir", o.dir}, IO{In: in, Out: io.Discard, Err: io.Discard})
	}()
	select {
	case <-in.reading:
	case <-time.After(5 * time.Second):
		t.Fatal("the password was not read")
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitDetached {
			t.Errorf("exit %d, want %d", code, ExitDetached)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ctrl-C at the password prompt was swallowed")
	}
}

// readWatch is a reader that closes reading when the first read begins.
type readWatch struct {
	r       io.Reader
	once    sync.Once
	reading chan struct{}
}

func (w *readWatch) Read(b []byte) (int, error) {
	w.once.Do(func() { close(w.reading) })
	return w.r.Read(b)
}

// failingCheck runs `diagnose --json` in dir and returns its "failing" check.
func failingCheck(t *testing.T, dir string) control.Check {
	t.Helper()
	r := runMain(ctxT(t, 20*time.Second), dir, "diagnose", "--json")
	var d diagnosis
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("diagnose --json: %v\n%v", err, r)
	}
	for _, c := range d.Checks {
		if c.Name == "failing" {
			return c
		}
	}
	t.Fatalf("no failing check: %v", r)
	return control.Check{}
}

// TestDiagnoseUsesTheFailureThreshold: with no owner, diagnose judges consecutive failures by the
// stored alert settings' threshold; with an owner, by the owner's.
func TestDiagnoseUsesTheFailureThreshold(t *testing.T) {
	for _, c := range []struct {
		threshold, failures int
		want                control.CheckStatus
	}{
		{3, 2, control.CheckWarn},
		{1, 1, control.CheckFail},
		{0, 2, control.CheckFail}, // no stored settings: the default, 2
		{0, 1, control.CheckWarn},
	} {
		dir := shortTempDir(t)
		p := paths.Resolve(dir)
		if err := p.EnsureDirs(); err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(p.DB, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if c.threshold > 0 {
			s := notify.DefaultSettings()
			s.FailureThreshold = c.threshold
			if err := db.PutSetting(notify.SettingsKey, s); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.UpdateState(func(st *scheduler.State) error {
			st.ConsecutiveFailures = c.failures
			st.LastErrorClass, st.LastError = scheduler.ClassTimeout, "slow"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if got := failingCheck(t, dir); got.Status != c.want {
			t.Errorf("no owner, threshold %d, %d failures: %+v, want %s", c.threshold, c.failures, got, c.want)
		}
	}

	o := startInProcessOwnerWith(t, control.Hooks{FailureThreshold: func() int { return 1 }})
	o.scr.set(func(context.Context, scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
		return scheduler.ScrapeResult{}, &scheduler.RunError{Class: scheduler.ClassTimeout, Msg: "slow"}
	})
	if r := runMain(ctxT(t, 20*time.Second), o.dir, "scrape"); r.code != ExitTimeout {
		t.Fatalf("scrape: %v", r)
	}
	if got := failingCheck(t, o.dir); got.Status != control.CheckFail {
		t.Errorf("owner threshold 1, 1 failure: %+v, want fail", got)
	}
}

// TestNotStartedMessage: the owner's 503 (its scheduler is starting or stopping) is told as such.
func TestNotStartedMessage(t *testing.T) {
	var errb strings.Builder
	e := &env{io: IO{Out: io.Discard, Err: &errb}, name: "scrape"}
	code := e.exit(&control.Error{Status: 503, Code: "unavailable", Message: "starting a scrape: the scheduler is not running"})
	if code != ExitError || !strings.Contains(errb.String(), "starting or stopping") || !strings.Contains(errb.String(), "try again") {
		t.Errorf("exit %d: %q", code, errb.String())
	}
}

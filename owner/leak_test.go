package owner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"worktray/control"
	"worktray/paths"
	"worktray/scheduler"
	"worktray/scraper/demoportal"
	"worktray/secret"
)

// TestSecretsNeverLeak runs a whole owner in this process with a portal password and Pushover
// keys set, scrapes, fails twice at signing in (so failure artifacts are kept and a Pushover
// alert is sent), then searches the bytes of every log file, artifact, store file and API
// response for the secrets. Only the secret store may hold them.
func TestSecretsNeverLeak(t *testing.T) {
	requireChromium(t)
	const (
		password = "Portal-Pw-7c1f9e2a"
		token    = "tok4Q9zW8x7V6u5T4s3R2q1P0o9N8m"
		userKey  = "usrK1j2H3g4F5d6S7a8Q9w0E1r2T3y"
	)
	portal := demoportal.New(demoportal.Options{Seed: 5, Count: 12, Password: password})
	base, stopPortal, err := portal.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stopPortal()

	var (
		mu       sync.Mutex
		pushover [][]byte
	)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		pushover = append(pushover, body)
		mu.Unlock()
		w.Header().Set("X-Limit-App-Limit", "10000")
		w.Header().Set("X-Limit-App-Remaining", "9999")
		w.Header().Set("X-Limit-App-Reset", fmt.Sprint(time.Now().Add(24*time.Hour).Unix()))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":1,"request":"5042853c-402d-4a18-abcb-168734a801de"}`)
	}))
	defer fake.Close()

	dir := t.TempDir()
	p := paths.Resolve(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Paths: p, Headless: true, LogLevel: "debug", PushoverEndpoint: fake.URL, Stderr: io.Discard})
	}()
	c := control.NewClient(p.Socket)
	defer c.Close()
	eventually(t, "the owner's socket", 10*time.Second, func() bool { _, err := c.Status(ctx); return err == nil })

	pw := password
	if _, err := c.SetPortal(ctx, control.PortalInput{URL: base, Profile: "demo", Username: demoportal.DefaultEmail, Password: &pw}); err != nil {
		t.Fatalf("portal set: %v", err)
	}
	on, tok, usr := true, token, userKey
	if _, err := c.SetAlerts(ctx, control.AlertsInput{PushoverEnabled: &on, PushoverToken: &tok, PushoverUserKey: &usr}); err != nil {
		t.Fatalf("alerts set: %v", err)
	}
	if err := c.TestLogin(ctx); err != nil {
		t.Fatalf("test login: %v", err)
	}
	scrape := func(want scheduler.RunStatus) scheduler.Run {
		t.Helper()
		run, err := c.Scrape(ctx)
		if err != nil {
			t.Fatalf("scrape: %v", err)
		}
		var got scheduler.Run
		eventually(t, "the scrape", 60*time.Second, func() bool {
			got, err = c.Run(ctx, run.ID)
			return err == nil && got.Status.Finished()
		})
		if got.Status != want {
			t.Fatalf("run %+v, want %s", got, want)
		}
		return got
	}
	scrape(scheduler.StatusSucceeded)
	portal.SetFaults(demoportal.Faults{LoginAlwaysFails: true})
	portal.ExpireSessions()
	scrape(scheduler.StatusFailed)
	failed := scrape(scheduler.StatusFailed)
	if failed.ErrorClass != scheduler.ClassLoginFailed || len(failed.Artifacts) == 0 {
		t.Fatalf("failed run %+v, want login_failed with artifacts", failed)
	}
	eventually(t, "the failing alert at Pushover", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(pushover) > 0
	})

	// Every API answer, raw.
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", p.Socket)
	}}}
	defer hc.CloseIdleConnections()
	var answers []byte
	for _, req := range []struct{ method, path, body string }{
		{"GET", "/api/status", ""}, {"GET", "/api/history?n=100", ""}, {"GET", "/api/orders?removed=true", ""},
		{"GET", "/api/schedule", ""}, {"GET", "/api/portal", ""}, {"GET", "/api/scheduler/health", ""}, {"GET", "/api/alerts", ""},
		{"GET", fmt.Sprintf("/api/runs/%d", failed.ID), ""}, {"POST", "/api/diagnose", `{"fix":false}`},
		{"PUT", "/api/alerts", `{"pushover_token":"short"}`}, {"PUT", "/api/portal", `{"url":"nonsense"}`},
		{"POST", "/api/portal/test", ""},
	} {
		r, err := http.NewRequestWithContext(ctx, req.method, "http://worktray"+req.path, strings.NewReader(req.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(r)
		if err != nil {
			t.Fatalf("%s %s: %v", req.method, req.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers = append(answers, b...)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("owner: %v", err)
	}

	secrets := map[string]string{"portal password": password, "pushover token": token, "pushover user key": userKey}
	for name, v := range secrets {
		if bytes.Contains(answers, []byte(v)) {
			t.Errorf("an API answer contains the %s", name)
		}
	}
	// The secrets did reach where they belong, so the search below could find them.
	mu.Lock()
	if !bytes.Contains(pushover[0], []byte(token)) {
		t.Fatal("the Pushover request does not carry the token: the test proves nothing")
	}
	mu.Unlock()
	secretsFile := filepath.Join(p.ConfigDir, secret.FileName)
	if b, err := os.ReadFile(secretsFile); err != nil || !bytes.Contains(b, []byte(password)) {
		t.Fatalf("the secrets file does not hold the password (%v): the test proves nothing", err)
	}
	files := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == secretsFile || d.Type()&fs.ModeSocket != 0 {
			return err
		}
		if strings.HasPrefix(path, filepath.Join(dir, "tmp")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for name, v := range secrets {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s contains the %s", path, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	arts, _ := filepath.Glob(filepath.Join(p.ArtifactDir, "*"))
	logs, _ := filepath.Glob(filepath.Join(p.LogDir, "*.jsonl"))
	if len(arts) == 0 || len(logs) == 0 || files < 4 {
		t.Fatalf("searched %d files (%d artifacts, %d logs): too few to prove anything", files, len(arts), len(logs))
	}
}

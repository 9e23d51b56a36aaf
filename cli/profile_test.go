package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"worktray/control"
	"worktray/scraper"
	"worktray/scraper/demoportal"
)

// TestProfileCheckAndInit works offline: init writes a starter profile (never over a file),
// check validates it and names the field of a broken one.
func TestProfileCheckAndInit(t *testing.T) {
	dir := shortTempDir(t)
	ctx := ctxT(t, 30*time.Second)
	file := filepath.Join(dir, "mine.toml")
	if r := runMain(ctx, dir, "profile", "init", file); r.code != ExitOK || !strings.Contains(r.stdout, file) {
		t.Fatalf("init: %v", r)
	}
	written, _ := os.ReadFile(file)
	if !bytes.Equal(written, scraper.StarterProfile()) {
		t.Error("init did not write the starter profile")
	}
	if err := os.WriteFile(file, []byte("# mine\n"+string(written)), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runMain(ctx, dir, "profile", "init", file); r.code != ExitError || !strings.Contains(r.stderr, "exists") {
		t.Errorf("init over an existing file: %v", r)
	}
	if b, _ := os.ReadFile(file); !strings.HasPrefix(string(b), "# mine\n") {
		t.Error("init overwrote an existing file")
	}
	if r := runMain(ctx, dir, "profile", "check", file); r.code != ExitOK || !strings.Contains(r.stdout, "valid profile") {
		t.Errorf("check of the starter profile: %v", r)
	}
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, bytes.Replace(written, []byte(`row = "table tbody tr"`), []byte(`row = "table tbody tr >"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runMain(ctx, dir, "profile", "check", bad); r.code != ExitInvalid || !strings.Contains(r.stderr, "list.row") || !strings.Contains(r.stderr, bad) {
		t.Errorf("check of a broken profile: %v", r)
	}
	if r := runMain(ctx, dir, "profile", "check"); r.code != ExitUsage {
		t.Errorf("check without a file: %v", r)
	}
	if r := runMain(ctx, dir, "profile", "test"); r.code != ExitNoOwner {
		t.Errorf("test without an owner: %v", r)
	}
	if r := runMain(ctx, dir, "profile", "test", bad); r.code != ExitInvalid || !strings.Contains(r.stderr, "list.row") {
		t.Errorf("test of a broken file: %v", r)
	}
}

// TestProfileTestThroughTheOwner runs `profile test` against an owner whose hook scrapes the
// demo portal with real Chromium: the report names each field, a broken field fails with the
// layout exit code, and --screenshot saves a PNG.
func TestProfileTestThroughTheOwner(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Chromium")
	}
	p := demoportal.New(demoportal.Options{Seed: 61, Count: 8})
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(func() { p.Close(); srv.CloseClientConnections(); srv.Close() })
	example := filepath.Join("..", "docs", "profiles", "demo-fields.toml")
	hooks := control.Hooks{TestProfile: func(ctx context.Context, in control.ProfileTestInput) (any, error) {
		file := in.File
		if file == "" {
			file = example
		}
		prof, err := scraper.LoadProfile(file)
		if err != nil {
			return nil, err
		}
		email, pw := p.Credentials()
		s, err := scraper.New(scraper.Config{Profile: prof, BaseURL: srv.URL, Username: email, Password: pw})
		if err != nil {
			return nil, err
		}
		return s.TestProfile(ctx, scraper.ProfileTestOptions{Pages: in.Pages, Details: in.Details, Screenshot: in.Screenshot})
	}}
	o := startInProcessOwnerWith(t, hooks)
	ctx := ctxT(t, 3*time.Minute)
	shot := filepath.Join(o.dir, "shot.png")
	r := runMain(ctx, o.dir, "profile", "test", "--screenshot", shot)
	if r.code != ExitOK || !strings.Contains(r.stdout, "list.fields.number") || !strings.Contains(r.stdout, "8/8") ||
		!strings.Contains(r.stdout, "detail.fields.county") {
		t.Fatalf("profile test: %v", r)
	}
	if b, err := os.ReadFile(shot); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("screenshot: %v (%d bytes)", err, len(b))
	}
	broken := filepath.Join(o.dir, "broken.toml")
	b, _ := os.ReadFile(example)
	if err := os.WriteFile(broken, bytes.Replace(b, []byte(`selector = ".cust"`), []byte(`selector = ".client-name"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runMain(ctx, o.dir, "profile", "test", broken)
	if r.code != ExitLayoutChanged || !strings.Contains(r.stdout, "BAD list.fields.customer") || !strings.Contains(r.stdout, "matched nothing") {
		t.Errorf("profile test with a broken field: %v", r)
	}
}

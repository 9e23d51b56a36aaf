package owner

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"worktray/scheduler"
	"worktray/scraper"
	"worktray/secret"
	"worktray/store"
)

// TestScrapeConfigErrors: a scrape that cannot start because of the user's configuration (no
// portal set up; a profile file missing, unreadable or invalid) fails with class config_error
// (never portal_error or layout_changed) and names what to fix.
func TestScrapeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "worktray.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Check(); err != nil {
			t.Errorf("store consistency: %v", err)
		}
		_ = db.Close()
	})
	sec, err := secret.Open(filepath.Join(dir, "config"), false)
	if err != nil {
		t.Fatal(err)
	}
	p := &portalScraper{db: db, secrets: sec, artifacts: filepath.Join(dir, "artifacts"),
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), dataDir: dir}

	invalid := filepath.Join(dir, "invalid.toml")
	if err := os.WriteFile(invalid, []byte("this is = not [ a profile"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "gone.toml")
	for _, tc := range []struct {
		name     string
		settings *scraper.Settings
		want     []string
	}{
		{"no portal", nil, []string{"no portal is configured", "worktray portal set"}},
		{"no url", &scraper.Settings{Username: "me"}, []string{"no portal is configured"}},
		{"profile file missing", &scraper.Settings{URL: "http://127.0.0.1:9", Username: "me", Profile: missing},
			[]string{"profile cannot be used", missing}},
		{"profile not a file", &scraper.Settings{URL: "http://127.0.0.1:9", Username: "me", Profile: dir},
			[]string{"profile cannot be used", dir}},
		{"profile invalid", &scraper.Settings{URL: "http://127.0.0.1:9", Username: "me", Profile: invalid},
			[]string{"profile cannot be used", invalid}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.settings != nil {
				if err := db.PutSetting(scraper.SettingsKey, *tc.settings); err != nil {
					t.Fatal(err)
				}
			}
			_, err := p.Scrape(context.Background(), scheduler.ScrapeRequest{RunID: 1})
			class, msg := scheduler.Classify(err)
			if class != scheduler.ClassConfig {
				t.Fatalf("class %q (%v), want %q", class, err, scheduler.ClassConfig)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
			if tc.settings == nil && !errors.Is(err, ErrNoPortal) {
				t.Errorf("%v does not match ErrNoPortal", err)
			}
		})
	}
}

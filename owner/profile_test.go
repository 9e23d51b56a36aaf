package owner

import (
	"context"
	"errors"
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

// TestGoneProfileIsAConfigError: a profile file that went missing or became unreadable after it
// was saved fails the run as config_error naming the file, not as a layout change.
func TestGoneProfileIsAConfigError(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "worktray.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secrets, err := secret.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := secrets.Set(secret.PortalPassword, "pw-123456"); err != nil {
		t.Fatal(err)
	}
	unreadable := filepath.Join(dir, "unreadable.toml")
	if err := os.WriteFile(unreadable, scraper.StarterProfile(), 0o000); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{filepath.Join(dir, "gone.toml"), unreadable} {
		if os.Geteuid() == 0 && file == unreadable {
			continue // root reads any file
		}
		if err := db.PutSetting(scraper.SettingsKey, scraper.Settings{URL: "http://127.0.0.1:1", Profile: file, Username: "ann"}); err != nil {
			t.Fatal(err)
		}
		scr := &portalScraper{db: db, secrets: secrets, artifacts: filepath.Join(dir, "artifacts"), log: slog.New(slog.DiscardHandler)}
		_, err := scr.Scrape(context.Background(), scheduler.ScrapeRequest{RunID: 1})
		var re *scheduler.RunError
		if !errors.As(err, &re) || re.Class != scheduler.ClassConfig || !strings.Contains(re.Msg, file) {
			t.Errorf("profile %s: %v; want config_error naming the file", file, err)
		}
	}
}

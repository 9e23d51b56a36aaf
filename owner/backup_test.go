package owner

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"worktray/paths"
	"worktray/store"
)

// TestDailyBackupAfterScrape runs the owner on the demo portal (real Chromium): its first
// scrape succeeds, and the day's backup appears in the backup directory with the demo's 52
// orders; the owner keeps running.
func TestDailyBackupAfterScrape(t *testing.T) {
	requireChromium(t)
	p := paths.Resolve(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{Paths: p, Demo: true, Headless: true, Stderr: io.Discard}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	want := filepath.Join(p.BackupDir, "worktray-"+time.Now().Format("2006-01-02")+".db")
	var list []store.BackupInfo
	eventually(t, "the day's backup", 90*time.Second, func() bool {
		select {
		case err := <-done:
			t.Fatalf("the owner stopped: %v", err)
		default:
		}
		list, _ = store.ListBackups(p.BackupDir)
		return len(list) == 1
	})
	if b := list[0]; b.Path != want || b.Orders != 52 || b.Problem != "" {
		t.Errorf("backup = %+v, want %s with 52 orders", b, want)
	}
}

// TestRunRefusesDamagedStore: an owner on a damaged store (and on a zero-byte one) returns at
// once with the store's error naming the file and the newest backup, leaving the file as it
// was.
func TestRunRefusesDamagedStore(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(data []byte) []byte
	}{
		{"damaged page", func(data []byte) []byte {
			for i := 2*4096 + 16; i < 2*4096+80; i++ {
				data[i] = 1
			}
			return data
		}},
		{"zero bytes", func([]byte) []byte { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := paths.Resolve(t.TempDir())
			if err := p.EnsureDirs(); err != nil {
				t.Fatal(err)
			}
			db, err := store.Open(p.DB, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.PutSetting("general", strings.Repeat("x", 2000)); err != nil {
				t.Fatal(err)
			}
			backup, _, err := db.DailyBackup(context.Background(), p.BackupDir, time.Now(), store.BackupKeep)
			if err != nil {
				t.Fatal(err)
			}
			_ = db.Close()
			data, err := os.ReadFile(p.DB)
			if err != nil {
				t.Fatal(err)
			}
			data = tc.damage(data)
			if err := os.WriteFile(p.DB, data, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err = Run(ctx, Options{Paths: p, Headless: true, Stderr: io.Discard})
			if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), p.DB) ||
				!strings.Contains(err.Error(), "worktray backup restore "+backup) {
				t.Errorf("Run = %v, want ErrCorrupt naming %s and the backup %s", err, p.DB, backup)
			}
			if after, _ := os.ReadFile(p.DB); string(after) != string(data) {
				t.Error("the owner changed the damaged store")
			}
			if _, err := os.Stat(p.Socket); err == nil {
				t.Error("the owner opened its control socket on a damaged store")
			}
		})
	}
}

package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"worktray/scheduler"
)

func TestSchedule(t *testing.T) {
	db := newDB(t)
	if _, err := db.Schedule(); !errors.Is(err, scheduler.ErrNotFound) {
		t.Fatalf("Schedule() of a new store = %v, want ErrNotFound", err)
	}

	bad := scheduler.DefaultSchedule("Mars/Base")
	bad.Minute = 60
	before := dump(t, db)
	err := db.SaveSchedule(bad)
	var verr scheduler.ValidationError
	if !errors.As(err, &verr) || verr.Field("minute") == nil || verr.Field("zone") == nil {
		t.Fatalf("SaveSchedule(invalid) = %v, want a ValidationError naming minute and zone", err)
	}
	if d := diffDumps(before, dump(t, db)); len(d) > 0 {
		t.Errorf("an invalid schedule was written: %v", d)
	}

	s := scheduler.DefaultSchedule("America/New_York")
	s.Minute, s.ActiveFrom, s.ActiveTo = 15, 8, 17
	if err := db.SaveSchedule(s); err != nil {
		t.Fatal(err)
	}
	got, err := db.Schedule()
	if err != nil {
		t.Fatal(err)
	}
	if got.Minute != 15 || got.ActiveFrom != 8 || got.Zone != "America/New_York" || !slices.Equal(got.Weekdays, s.Weekdays) {
		t.Errorf("Schedule() = %+v, want %+v", got, s)
	}
	// The loaded schedule is validated, so its zone is loaded and Next works.
	if got.Location().String() != "America/New_York" || got.Next(t0).IsZero() {
		t.Errorf("the loaded schedule is not ready: zone %v, next %v", got.Location(), got.Next(t0))
	}
}

func TestSettings(t *testing.T) {
	db := newDB(t)
	type portal struct {
		URL      string `json:"url"`
		Username string `json:"username"`
	}
	var p portal
	if ok, err := db.Setting("portal", &p); ok || err != nil {
		t.Errorf("Setting of a missing key = %v, %v; want false, nil", ok, err)
	}
	want := portal{URL: "https://portal.example", Username: "tech1"}
	if err := db.PutSetting("portal", want); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.Setting("portal", &p); !ok || err != nil || p != want {
		t.Errorf("Setting(portal) = %+v, %v, %v; want %+v", p, ok, err, want)
	}
	if err := db.PutSetting("schedule", scheduler.Schedule{Minute: 99}); !errors.Is(err, errReservedSetting) {
		t.Errorf("PutSetting(schedule) = %v; it must go through SaveSchedule", err)
	}
	if err := db.PutSetting("bad", func() {}); err == nil {
		t.Error("PutSetting of a value JSON cannot encode succeeded")
	}
}

func TestState(t *testing.T) {
	db := newDB(t)
	if st, err := db.State(); err != nil || !reflect.DeepEqual(st, scheduler.State{}) {
		t.Errorf("State() of a new store = %+v, %v", st, err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	st, err := db.UpdateState(func(st *scheduler.State) error {
		st.Paused, st.Cursor = true, t0.In(ny)
		return nil
	})
	if err != nil || !st.Paused {
		t.Fatalf("UpdateState = %+v, %v", st, err)
	}
	boom := errors.New("boom")
	if _, err := db.UpdateState(func(st *scheduler.State) error { st.Paused = false; return boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateState with a failing fn = %v, want boom", err)
	}
	got, _ := db.State()
	if !got.Paused || !got.Cursor.Equal(t0) || got.Cursor.Location() != time.UTC {
		t.Errorf("State() = %+v; want paused with the cursor in UTC (the failed update rolled back)", got)
	}
}

func TestCookies(t *testing.T) {
	db := newDB(t)
	if c, err := db.LoadCookies(); c != nil || err != nil {
		t.Errorf("LoadCookies of a new store = %q, %v", c, err)
	}
	blob := []byte(`[{"name":"session","value":"abc"}]`)
	if err := db.SaveCookies(blob); err != nil {
		t.Fatal(err)
	}
	if c, err := db.LoadCookies(); !bytes.Equal(c, blob) || err != nil {
		t.Errorf("LoadCookies = %q, %v", c, err)
	}
	if err := db.SaveCookies(nil); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.LoadCookies(); c != nil {
		t.Errorf("cookies after deleting = %q", c)
	}
}

func TestOutbox(t *testing.T) {
	clock := clockwork.NewFakeClockAt(t0)
	db := openTest(t, filepath.Join(t.TempDir(), "worktray.db"), Options{Clock: clock})
	if err := db.EnqueueAlerts([]scheduler.Alert{{Kind: scheduler.AlertMissed, Title: "a"}, {Kind: scheduler.AlertFailing, Title: "b"}}); err != nil {
		t.Fatal(err)
	}
	stored, err := db.AppendAlerts([]scheduler.Alert{{Kind: scheduler.AlertTest, Title: "c"}})
	if err != nil || len(stored) != 1 || stored[0].ID != 3 {
		t.Fatalf("AppendAlerts = %+v, %v", stored, err)
	}
	pending, _ := db.PendingAlerts(2)
	if len(pending) != 2 || pending[0].Title != "a" || pending[1].Title != "b" || pending[0].ID != 1 || !pending[0].Created.Equal(t0) {
		t.Fatalf("PendingAlerts(2) = %+v; want a, b oldest first, created at the clock's now", pending)
	}

	a := pending[0]
	a.Attempts, a.LastError, a.NextTry = 1, "pushover: 500", t0.Add(2*time.Minute)
	if err := db.UpdateAlert(a); err != nil {
		t.Fatal(err)
	}
	if p, _ := db.PendingAlerts(1); p[0].Attempts != 1 || !p[0].NextTry.Equal(a.NextTry) {
		t.Errorf("after UpdateAlert: %+v", p[0])
	}
	if err := db.AckAlert(a.ID, t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.AckAlert(a.ID, t0.Add(4*time.Minute)); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("a second AckAlert = %v, want ErrNotFound", err)
	}
	if err := db.UpdateAlert(a); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("UpdateAlert of a sent alert = %v, want ErrNotFound", err)
	}
	if err := db.DeleteAlert(2); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAlert(2); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("a second DeleteAlert = %v, want ErrNotFound", err)
	}
	if p, _ := db.PendingAlerts(0); len(p) != 1 || p[0].ID != 3 {
		t.Errorf("pending = %+v, want only alert 3", p)
	}
	sent, _ := db.SentAlerts(0)
	if len(sent) != 1 || sent[0].ID != a.ID || sent[0].Attempts != 1 || !sent[0].Sent.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("SentAlerts = %+v", sent)
	}
}

func TestSentAlertsAreCapped(t *testing.T) {
	db := newDB(t)
	const n = SentKeep + 20
	alerts := make([]scheduler.Alert, n)
	stored, err := db.AppendAlerts(alerts)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range stored {
		if err := db.AckAlert(a.ID, t0); err != nil {
			t.Fatal(err)
		}
	}
	sent, _ := db.SentAlerts(0)
	if len(sent) != SentKeep || sent[0].ID != n || sent[len(sent)-1].ID != n-SentKeep+1 {
		t.Errorf("%d sent alerts kept (newest %d, oldest %d); want the last %d", len(sent), sent[0].ID, sent[len(sent)-1].ID, SentKeep)
	}
}

func TestBackup(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, filepath.Join(dir, "worktray.db"), Options{})
	s := scheduler.DefaultSchedule("Europe/London")
	if err := db.SaveSchedule(s); err != nil {
		t.Fatal(err)
	}
	r := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerScheduled, Slot: t0, Attempt: 1, Status: scheduler.StatusRunning})
	if _, _, err := db.FinishRun(r, []scheduler.Order{order("A", 1), order("B", 2)}, t0, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.EnqueueAlerts([]scheduler.Alert{{Kind: scheduler.AlertTest}}); err != nil {
		t.Fatal(err)
	}

	backupDir := filepath.Join(dir, "backups")
	if err := os.Mkdir(backupDir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(backupDir, "copy.db")
	if err := os.WriteFile(path, []byte("an older backup"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v, %v; want mode 0600", st.Mode(), err)
	}
	entries, _ := os.ReadDir(backupDir)
	if len(entries) != 1 {
		t.Errorf("backup directory holds %d entries, want only the backup (no temporary file)", len(entries))
	}

	copyDB := openTest(t, path, Options{ReadOnly: true})
	if d := diffDumps(dump(t, db), dump(t, copyDB)); len(d) > 0 {
		t.Errorf("the backup differs from the store: %v", d)
	}
	if got, err := copyDB.RunBySlot(t0); err != nil || got.ID != r.ID {
		t.Errorf("backup RunBySlot = %+v, %v", got, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	other := filepath.Join(backupDir, "canceled.db")
	if err := db.Backup(ctx, other); !errors.Is(err, context.Canceled) {
		t.Errorf("Backup with a canceled context = %v", err)
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Errorf("a canceled backup left a file: %v", err)
	}
	if err := db.Backup(context.Background(), db.Path()); err == nil || !strings.Contains(err.Error(), "cannot replace") {
		t.Errorf("Backup onto the store itself = %v", err)
	}
	if entries, _ := os.ReadDir(backupDir); len(entries) != 1 {
		t.Errorf("backup directory holds %d entries after failed backups, want 1", len(entries))
	}
}

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"worktray/paths"
	"worktray/scheduler"
	"worktray/store"
)

// fillStore writes a store with n orders and 300 runs at p.DB and takes the day's backup; it
// returns the backup's path.
func fillStore(t *testing.T, p paths.Paths, n int) string {
	t.Helper()
	db, err := store.Open(p.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2025, 3, 10, 14, 30, 0, 0, time.UTC)
	orders := make([]scheduler.Order, n)
	for i := range orders {
		orders[i] = scheduler.Order{PortalID: fmt.Sprintf("P%05d", i), Number: fmt.Sprintf("W-%06d", i), Customer: "Acme Retail",
			SiteName: fmt.Sprintf("Store %d", i), Instructions: strings.Repeat("Ladder required. ", 10), VisitDate: "2025-03-14"}
	}
	for i := range 300 {
		r, err := db.ClaimRun(scheduler.Run{Trigger: scheduler.TriggerScheduled, Slot: t0.Add(time.Duration(i) * time.Hour), Attempt: 1,
			Status: scheduler.StatusRunning, Started: t0.Add(time.Duration(i) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		r.Status, r.Finished, r.Message = scheduler.StatusSucceeded, r.Started.Add(time.Minute), strings.Repeat("ok ", 40)
		var scraped []scheduler.Order
		if i == 299 {
			scraped = orders
		}
		if _, _, err := db.FinishRun(r, scraped, r.Finished, nil); err != nil {
			t.Fatal(err)
		}
	}
	backup, _, err := db.DailyBackup(context.Background(), p.BackupDir, time.Now(), store.BackupKeep)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	return backup
}

// pagesInUse returns the ids of the pages of the bbolt file that are in use, and the page size.
func pagesInUse(t *testing.T, path string) ([]int, int) {
	t.Helper()
	b, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var ids []int
	err = b.View(func(tx *bbolt.Tx) error {
		for id := 2; ; id++ {
			p, err := tx.Page(id)
			if err != nil || p == nil {
				return err
			}
			if p.Type != "free" {
				ids = append(ids, id)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, b.Info().PageSize
}

// TestDamagedStoreCommands damages one page of a store with orders and runs (random pages and
// offsets; the seed is printed, WORKTRAY_DAMAGE_SEED repeats it), then runs the built
// `worktray status`, `orders`, `diagnose` and the owner on it: each exits with one clear
// message naming the file, the newest backup and the restore command, never a panic, and the
// owner refuses to start. Then `backup list` shows the backup and `backup restore` brings back
// its orders, keeping the damaged file aside.
func TestDamagedStoreCommands(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("WORKTRAY_DAMAGE_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (WORKTRAY_DAMAGE_SEED=%d repeats it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 7))

	dir := shortTempDir(t)
	p := paths.Resolve(dir)
	if err := p.EnsureDirs(); err != nil {
		t.Fatal(err)
	}
	backup := fillStore(t, p, 400)
	good, err := os.ReadFile(p.DB)
	if err != nil {
		t.Fatal(err)
	}
	ids, pageSize := pagesInUse(t, p.DB)

	for c := 0; c < 3; c++ {
		// Find a damage the store notices (most are; damage in unused bytes is harmless).
		var label string
		for try := 0; ; try++ {
			id, off := ids[rng.IntN(len(ids))], rng.IntN(pageSize-64)
			data := append([]byte(nil), good...)
			for i := range 64 {
				data[id*pageSize+off+i] = byte(rng.UintN(256))
			}
			if err := os.WriteFile(p.DB, data, 0o600); err != nil {
				t.Fatal(err)
			}
			label = fmt.Sprintf("case %d: page %d offset %d", c, id, off)
			db, err := store.Open(p.DB, store.Options{ReadOnly: true})
			if err == nil {
				_, err = db.Orders(true)
				db.Close()
			}
			if errors.Is(err, store.ErrCorrupt) {
				break
			}
			if try == 100 {
				t.Fatalf("100 random damages went unnoticed: %v", err)
			}
		}
		wantMsg := []string{p.DB, "worktray backup restore " + backup}
		for _, cmd := range []struct {
			args []string
			code int
		}{
			{[]string{"status"}, ExitStore},
			{[]string{"orders"}, ExitStore},
			{[]string{"diagnose"}, ExitUnhealthy},
			{[]string{"run", "--headless"}, ExitStore},
		} {
			r := cli(t, dir, "", cmd.args...)
			if r.code != cmd.code {
				t.Errorf("%s: worktray %s: exit %d, want %d:\n%v", label, cmd.args[0], r.code, cmd.code, r)
			}
			out := r.stdout + r.stderr
			for _, s := range wantMsg {
				if !strings.Contains(out, s) {
					t.Errorf("%s: worktray %s does not say %q:\n%v", label, cmd.args[0], s, r)
				}
			}
			if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
				t.Errorf("%s: worktray %s panicked:\n%v", label, cmd.args[0], r)
			}
		}
	}
	// Every other command that reads the store with no owner running says the same (those that
	// need the owner say it does not run), and none panics.
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"history"}, ExitStore}, {[]string{"orders", "show", "W-000001"}, ExitStore},
		{[]string{"schedule", "show"}, ExitStore}, {[]string{"retention", "show"}, ExitStore},
		{[]string{"backup", filepath.Join(dir, "copy.db")}, ExitStore}, {[]string{"schedule", "set", "--minute", "5"}, ExitStore},
		{[]string{"alerts", "show"}, ExitStore}, {[]string{"portal", "show"}, ExitNoOwner},
	} {
		r := cli(t, dir, "", c.args...)
		out := r.stdout + r.stderr
		name := strings.Join(c.args, " ")
		if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
			t.Errorf("worktray %s panicked on a damaged store:\n%v", name, r)
		} else if r.code != c.code || c.code == ExitStore && (!strings.Contains(out, p.DB) || !strings.Contains(out, "worktray backup restore "+backup)) {
			t.Errorf("worktray %s on a damaged store: want exit %d (naming the file and the backup):\n%v", name, c.code, r)
		}
	}
	damaged, err := os.ReadFile(p.DB)
	if err != nil {
		t.Fatal(err)
	}

	r := cli(t, dir, "", "backup", "list")
	expect(t, r, 0, filepath.Base(backup), " 400 ")
	r = cli(t, dir, "", "backup", "list", "--json")
	var list []store.BackupInfo
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 1 || list[0].Orders != 400 || list[0].Path != backup {
		t.Errorf("backup list --json = %+v, %v:\n%v", list, err, r)
	}

	expect(t, cli(t, dir, "", "backup", "restore", filepath.Join(dir, "nothing.db")), ExitError, "no backup file")
	bad := filepath.Join(dir, "damaged-copy.db")
	if err := os.WriteFile(bad, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, cli(t, dir, "", "backup", "restore", bad), ExitStore, "failed its check", "nothing was changed")
	if now, _ := os.ReadFile(p.DB); string(now) != string(damaged) {
		t.Error("the restore of a damaged backup changed the store")
	}
	r = cli(t, dir, "", "backup", "restore", filepath.Base(backup))
	expect(t, r, 0, "restored "+backup, "(400 orders)", "kept as")
	entries, _ := filepath.Glob(filepath.Join(p.DataDir, "worktray-replaced-*.db"))
	if len(entries) != 1 {
		t.Fatalf("replaced stores kept aside: %v, want one", entries)
	}
	if aside, _ := os.ReadFile(entries[0]); string(aside) != string(damaged) {
		t.Error("the file kept aside is not the damaged store")
	}
	r = cli(t, dir, "", "orders", "--json")
	var orders struct{ Orders []scheduler.Order }
	if err := json.Unmarshal([]byte(r.stdout), &orders); err != nil || len(orders.Orders) != 400 {
		t.Errorf("orders after the restore: %d, %v:\n%v", len(orders.Orders), err, r)
	}

	// With an owner running, restore is refused and replaces nothing.
	o := startOwner(t, dir)
	expect(t, cli(t, dir, "", "backup", "restore", backup), ExitError, "worktray is running", "nothing was changed")
	o.stop(t)
	if again, _ := filepath.Glob(filepath.Join(p.DataDir, "worktray-replaced-*.db")); len(again) != 1 {
		t.Errorf("a refused restore replaced the store: %v", again)
	}
}

// TestEmptyStoreFileCommands: a zero-byte store file is never taken for a new store: the owner
// refuses to start and the commands say so, naming the file; the file stays as it is.
func TestEmptyStoreFileCommands(t *testing.T) {
	dir := shortTempDir(t)
	p := paths.Resolve(dir)
	if err := p.EnsureDirs(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.DB, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{{"run", "--headless"}, {"status"}, {"orders"}} {
		r := cli(t, dir, "", cmd...)
		if r.code == 0 || !strings.Contains(r.stderr, p.DB) || !strings.Contains(r.stderr, "empty") {
			t.Errorf("worktray %s on a zero-byte store: %v", cmd[0], r)
		}
	}
	if st, err := os.Stat(p.DB); err != nil || st.Size() != 0 {
		t.Errorf("the zero-byte store was changed: %v, %v", st, err)
	}
}

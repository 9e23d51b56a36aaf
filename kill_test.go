package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"worktray/control"
	"worktray/paths"
	"worktray/scheduler"
	"worktray/scraper"
	"worktray/scraper/demoportal"
	"worktray/secret"
	"worktray/store"
)

// killRig is a data directory configured for a demo portal served by the test process (so that
// it outlives the owners the test kills), and a short TMPDIR of its own for those owners.
type killRig struct {
	bin, dir, tmp string
	paths         paths.Paths
	portal        *demoportal.Portal
	base          string
}

func newKillRig(t *testing.T, opts demoportal.Options) *killRig {
	t.Helper()
	requireChromium(t)
	r := &killRig{bin: buildBinary(t), dir: t.TempDir()}
	// Short: the browser's TMPDIR goes inside its profile directory only when Chromium's
	// singleton socket path fits there.
	tmp, err := os.MkdirTemp("", "wtk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(tmp) })
	r.tmp = tmp
	r.portal = demoportal.New(opts)
	base, stop, err := r.portal.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	r.base = base
	r.paths = paths.Resolve(r.dir)
	if err := r.paths.EnsureDirs(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(r.paths.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutSetting(scraper.SettingsKey, scraper.Settings{URL: base, Profile: scraper.ProfileDemo, Username: demoportal.DefaultEmail}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	sec, err := secret.Open(r.paths.ConfigDir, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := sec.Set(secret.PortalPassword, demoportal.DefaultPassword); err != nil {
		t.Fatal(err)
	}
	return r
}

// env is the environment of the owner and the CLI: the rig's data directory and TMPDIR.
func (r *killRig) env() []string {
	return append(os.Environ(), "WORKTRAY_DATA_DIR="+r.dir, "TMPDIR="+r.tmp)
}

// start starts a headless owner and waits until its scheduler runs.
func (r *killRig) start(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(r.bin, "run", "--headless")
	cmd.Env = r.env()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	pollUntil(t, "the owner answers on its control socket", 20*time.Second, func() bool {
		c := control.NewClient(r.paths.Socket)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := c.History(ctx, 1, false)
		return err == nil
	})
	return cmd
}

// runs returns the stored runs, asked of the running owner over its control socket.
func (r *killRig) runs(t *testing.T) []scheduler.Run {
	t.Helper()
	c := control.NewClient(r.paths.Socket)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	runs, err := c.History(ctx, 1000, false)
	if err != nil {
		t.Fatalf("the owner's history: %v", err)
	}
	return runs
}

// scrapeNow asks the owner for a scrape until a run of pid passes ok.
func (r *killRig) scrapeNow(t *testing.T, what string, timeout time.Duration, ok func(scheduler.Run) bool) {
	t.Helper()
	c := control.NewClient(r.paths.Socket)
	defer c.Close()
	pollUntil(t, what, timeout, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, _ = c.Scrape(ctx) // "already running" is fine
		return slices.ContainsFunc(r.runs(t), ok)
	})
}

// browserProcesses lists the live processes started for the rig's owners' browsers: every
// process whose command line names a profile directory in the rig's TMPDIR, or whose TMPDIR
// lies inside one (the browser's helpers, which name no profile directory, inherit it).
func (r *killRig) browserProcesses() []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		environ, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if len(cmdline) == 0 {
			continue // a zombie: dead, waiting to be reaped
		}
		if bytes.Contains(cmdline, []byte(r.tmp+"/")) || bytes.Contains(environ, []byte("TMPDIR="+r.tmp+"/")) {
			out = append(out, e.Name()+" "+string(bytes.ReplaceAll(cmdline[:min(len(cmdline), 120)], []byte{0}, []byte{' '})))
		}
	}
	return out
}

// leftDirs lists what is in the rig's TMPDIR apart from the profile directories of the owner
// with process id keep (0: none).
func (r *killRig) leftDirs(keep int) []string {
	var out []string
	ents, _ := os.ReadDir(r.tmp)
	for _, e := range ents {
		// worktray-chromium-<data dir>-<pid in base 36>.<start time>-<random>
		f := strings.Split(e.Name(), "-")
		if keep != 0 && len(f) == 5 && strings.HasPrefix(e.Name(), "worktray-chromium-") &&
			strings.HasPrefix(f[3], strconv.FormatInt(int64(keep), 36)+".") {
			continue
		}
		out = append(out, e.Name())
	}
	return out
}

// storedOrders returns the active orders of the store by portal id, read after the last owner
// stopped.
func (r *killRig) storedOrders(t *testing.T) map[string]scheduler.Order {
	t.Helper()
	db, err := store.Open(r.paths.DB, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	orders, err := db.ActiveOrders()
	if err != nil {
		t.Fatal(err)
	}
	return orders
}

// TestKillCyclesLeaveNoBrowser kills owners with SIGKILL at random moments of their scrapes,
// WORKTRAY_KILL_CYCLES times (default 5; `make soak` runs 50), against a demo portal that gains
// and changes orders between cycles. After each kill, within 10 s no browser process of the
// owner is left (its parent-death signal); the next owner removes the killed browser's profile
// directory within 10 s of its start (Sweep), marks the killed run interrupted, and scrapes.
// A final owner is stopped with SIGHUP in the middle of a scrape: the run is canceled and no
// browser or directory is left. The stored orders then equal the portal's.
func TestKillCyclesLeaveNoBrowser(t *testing.T) {
	cycles := 5
	if v := os.Getenv("WORKTRAY_KILL_CYCLES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("WORKTRAY_KILL_CYCLES=%q is not a positive number", v)
		}
		cycles = n
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d cycles", seed, cycles)
	rng := rand.New(rand.NewPCG(seed, 10))
	r := newKillRig(t, demoportal.Options{Seed: 9, Count: 60, Faults: demoportal.Faults{Latency: 60 * time.Millisecond}})

	var killedPID int
	interrupted := 0
	for i := range cycles {
		owner := r.start(t)
		pid := owner.Process.Pid
		if killedPID != 0 {
			// What the killed owner left is cleaned up by this one at its start.
			pollUntil(t, "the killed owner's profile directories are removed", 10*time.Second, func() bool {
				return len(r.leftDirs(pid)) == 0
			})
			var runs []scheduler.Run
			pollUntil(t, "the killed owner's run is no longer running", 10*time.Second, func() bool {
				runs = r.runs(t)
				return !slices.ContainsFunc(runs, func(run scheduler.Run) bool {
					return run.PID == killedPID && run.Status == scheduler.StatusRunning
				})
			})
			for _, run := range runs {
				if run.PID != killedPID {
					continue
				}
				switch run.Status {
				case scheduler.StatusInterrupted:
					interrupted++
				case scheduler.StatusSucceeded:
				default:
					t.Fatalf("cycle %d: the killed owner's run %d is %s (%s), want interrupted or succeeded", i, run.ID, run.Status, run.Message)
				}
			}
		}
		// The portal changes between scrapes: new orders and edited ones.
		r.portal.Add(rng.IntN(3))
		orders := r.portal.Orders()
		for range rng.IntN(3) {
			o := orders[rng.IntN(len(orders))]
			if err := r.portal.Edit(o.ID, func(o *demoportal.Order) { o.Customer += " Ltd" }); err != nil {
				t.Fatal(err)
			}
		}
		r.scrapeNow(t, "a run of the owner starts", 20*time.Second, func(run scheduler.Run) bool { return run.PID == pid })
		time.Sleep(time.Duration(rng.IntN(2500)) * time.Millisecond)
		if err := owner.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = owner.Wait()
		killedPID = pid
		pollUntil(t, "no browser process of the killed owner is left", 10*time.Second, func() bool {
			return len(r.browserProcesses()) == 0
		})
	}
	if cycles >= 3 && interrupted == 0 {
		t.Errorf("no kill of %d landed in the middle of a run; the test does not cover that", cycles)
	}

	// The last owner scrapes to the end, then is stopped by SIGHUP in the middle of another scrape.
	owner := r.start(t)
	pid := owner.Process.Pid
	pollUntil(t, "the killed owner's profile directories are removed", 10*time.Second, func() bool {
		return len(r.leftDirs(pid)) == 0
	})
	want := r.portal.Orders()
	r.scrapeNow(t, "a complete scrape succeeds", 60*time.Second, func(run scheduler.Run) bool {
		return run.PID == pid && run.Status == scheduler.StatusSucceeded && run.Found == len(want)
	})
	before := len(r.runs(t))
	r.portal.SetFaults(demoportal.Faults{Latency: 400 * time.Millisecond})
	r.scrapeNow(t, "another run starts", 20*time.Second, func(scheduler.Run) bool {
		return len(r.runs(t)) > before && len(r.browserProcesses()) > 0
	})
	if err := owner.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, owner, 30*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGHUP, want 0", code)
	}
	if left := r.browserProcesses(); len(left) > 0 {
		t.Errorf("browser processes left after SIGHUP: %q", left)
	}
	if left := r.leftDirs(0); len(left) > 0 {
		t.Errorf("left in TMPDIR after SIGHUP: %v", left)
	}
	db, err := store.Open(r.paths.DB, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	last, err := db.LatestRuns(1)
	db.Close()
	if err != nil || len(last) != 1 || last[0].Status != scheduler.StatusCanceled {
		t.Errorf("the run stopped by SIGHUP: %+v %v, want canceled", last, err)
	}
	got := r.storedOrders(t)
	if len(got) != len(want) {
		t.Errorf("%d orders stored, the portal has %d", len(got), len(want))
	}
	for _, o := range want {
		s, ok := got[o.ID]
		if !ok || s.Number != o.Number || s.Instructions != o.Instructions || s.Customer != o.Customer {
			t.Errorf("order %s stored as %+v, the portal has %+v", o.ID, s, o)
		}
	}
	t.Logf("%d cycles, %d kills in the middle of a run", cycles, interrupted)
}

// pollUntil polls cond every 50 ms until it holds, failing the test after timeout.
func pollUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
	}
}

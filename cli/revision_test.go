package cli

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"worktray/control"
	"worktray/paths"
)

// scheduleNow reads `schedule show --json` from the real owner.
func scheduleNow(t *testing.T, dir string) control.ScheduleInfo {
	t.Helper()
	r := cli(t, dir, "", "schedule", "show", "--json")
	var si control.ScheduleInfo
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &si) != nil {
		t.Fatalf("schedule show --json:\n%v", r)
	}
	return si
}

// concurrently runs each argument list as its own process at the same time.
func concurrently(t *testing.T, dir string, runs ...[]string) []result {
	t.Helper()
	out := make([]result, len(runs))
	var wg sync.WaitGroup
	for i, args := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = cli(t, dir, "", args...)
		}()
	}
	wg.Wait()
	return out
}

// TestConcurrentScheduleSet runs `schedule set` processes against a real owner at the same time.
// Two based on the same revision with different values: exactly one is applied (exit 0), the
// other is refused (exit 5, "saved by someone else") and the schedule holds the winner's value.
// Then rounds of concurrent plain `schedule set` (each reads, then writes at what it read; seed
// printed): every command is applied or refused, never lost: the revision moves by exactly the
// number applied, and the schedule holds one of their values.
func TestConcurrentScheduleSet(t *testing.T) {
	dir := shortTempDir(t)
	startOwner(t, dir)
	rev := scheduleNow(t, dir).Revision
	res := concurrently(t, dir,
		[]string{"schedule", "set", "--minute", "10", "--revision", strconv.FormatUint(rev, 10)},
		[]string{"schedule", "set", "--minute", "20", "--revision", strconv.FormatUint(rev, 10)})
	winner := -1
	for i, r := range res {
		switch r.code {
		case ExitOK:
			if winner >= 0 {
				t.Fatalf("both writes based on revision %d were applied:\n%v\n%v", rev, res[0], res[1])
			}
			winner = i
		case ExitStale:
			expect(t, r, ExitStale, "saved by someone else", fmt.Sprintf("revision %d, now %d", rev, rev+1))
		default:
			t.Fatalf("unexpected outcome:\n%v", r)
		}
	}
	if winner < 0 {
		t.Fatalf("neither write was applied:\n%v\n%v", res[0], res[1])
	}
	si := scheduleNow(t, dir)
	if want := []int{10, 20}[winner]; si.Schedule.Minute != want || si.Revision != rev+1 {
		t.Fatalf("schedule minute %d at revision %d, want the winner's %d at %d", si.Schedule.Minute, si.Revision, want, rev+1)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	for round := range 4 {
		before := scheduleNow(t, dir)
		var runs [][]string
		for range 2 + rng.IntN(3) {
			m := rng.IntN(60)
			runs = append(runs, []string{"schedule", "set", "--json", "--minute", strconv.Itoa(m)})
		}
		applied := map[int]bool{}
		n := 0
		for _, r := range concurrently(t, dir, runs...) {
			switch r.code {
			case ExitOK:
				n++
				var si control.ScheduleInfo
				if err := json.Unmarshal([]byte(r.stdout), &si); err != nil {
					t.Fatalf("round %d: schedule set --json: %v\n%v", round, err, r)
				}
				applied[si.Schedule.Minute] = true
			case ExitStale:
			default:
				t.Fatalf("round %d: unexpected outcome:\n%v", round, r)
			}
		}
		after := scheduleNow(t, dir)
		if n == 0 || after.Revision != before.Revision+uint64(n) {
			t.Fatalf("round %d: %d applied, revision %d → %d", round, n, before.Revision, after.Revision)
		}
		if !applied[after.Schedule.Minute] {
			t.Fatalf("round %d: minute %d is none of the values applied %v", round, after.Schedule.Minute, applied)
		}
		t.Logf("round %d: %d of %d applied, revision %d → %d", round, n, len(runs), before.Revision, after.Revision)
	}
}

// TestConcurrentAlertsAndPortalSet: two `alerts set`, and two `portal set`, based on the same
// revision with different values, against a real owner: for each, exactly one is applied and
// the other refused (exit 5), and the settings hold the applied one's value.
func TestConcurrentAlertsAndPortalSet(t *testing.T) {
	dir := shortTempDir(t)
	startOwner(t, dir)
	c := control.NewClient(paths.Resolve(dir).Socket)
	defer c.Close()
	oneApplied := func(what string, res []result) int {
		t.Helper()
		winner := -1
		for i, r := range res {
			switch {
			case r.code == ExitOK && winner < 0:
				winner = i
			case r.code == ExitStale:
				expect(t, r, ExitStale, "saved by someone else")
			default:
				t.Fatalf("%s: outcomes\n%v\n%v", what, res[0], res[1])
			}
		}
		if winner < 0 {
			t.Fatalf("%s: neither applied\n%v\n%v", what, res[0], res[1])
		}
		return winner
	}

	ai, err := c.Alerts(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	rev := strconv.FormatUint(ai.Revision, 10)
	w := oneApplied("alerts set", concurrently(t, dir,
		[]string{"alerts", "set", "--threshold", "3", "--revision", rev},
		[]string{"alerts", "set", "--threshold", "4", "--revision", rev}))
	if ai, err = c.Alerts(ctxT(t, 10*time.Second)); err != nil || !strings.Contains(string(ai.Settings), fmt.Sprintf(`"failure_threshold":%d`, 3+w)) {
		t.Fatalf("alert settings %s (%v), want the applied threshold %d", ai.Settings, err, 3+w)
	}

	pi, err := c.Portal(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	rev = strconv.FormatUint(pi.Revision, 10)
	users := []string{"first@example.com", "second@example.com"}
	w = oneApplied("portal set", concurrently(t, dir,
		[]string{"portal", "set", "--url", "https://portal.example.com", "--username", users[0], "--keep-password", "--revision", rev},
		[]string{"portal", "set", "--url", "https://portal.example.com", "--username", users[1], "--keep-password", "--revision", rev}))
	expect(t, cli(t, dir, "", "portal", "show"), ExitOK, users[w])
}

// TestUnsureWrite: a settings write that got no answer says it was applied whole or not at all
// and which command tells; it stays a not-responding error (exit 7). Other errors pass as they
// are.
func TestUnsureWrite(t *testing.T) {
	err := unsure(&control.NotRespondingError{PID: 42}, "schedule show")
	e := &env{io: IO{Err: &strings.Builder{}}, name: "schedule"}
	if code := e.exit(err); code != ExitNotResponding {
		t.Fatalf("exit %d, want %d", code, ExitNotResponding)
	}
	msg := e.io.Err.(*strings.Builder).String()
	for _, want := range []string{"(pid 42) is not responding", "saved whole or not at all", "`worktray schedule show` says which", "kill -CONT 42"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	other := control.ErrNoOwner
	if unsure(other, "schedule show") != other {
		t.Error("unsure changed an error that is not about silence")
	}
}

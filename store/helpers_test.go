package store

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
	"go.uber.org/goleak"

	"worktray/scheduler"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is the first instant the tests use.
var t0 = time.Date(2025, 3, 10, 14, 30, 0, 0, time.UTC)

// openTest opens path and registers a consistency check and Close in t.Cleanup.
func openTest(t testing.TB, path string, opts Options) *DB {
	t.Helper()
	db, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { checkAndClose(t, db) })
	return db
}

// create opens path read-write, so that the store exists, and closes it again.
func create(t testing.TB, path string) {
	t.Helper()
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	checkAndClose(t, db)
}

// newDB opens a new store in a temporary directory.
func newDB(t testing.TB) *DB {
	t.Helper()
	return openTest(t, filepath.Join(t.TempDir(), "worktray.db"), Options{})
}

// checkAndClose runs the consistency check, then closes db.
func checkAndClose(t testing.TB, db *DB) {
	t.Helper()
	if err := db.Check(); err != nil {
		t.Errorf("consistency check of %s: %v", db.Path(), err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// dump returns every bucket's sequence, keys and values, to compare a whole store before and
// after an operation that must not write.
func dump(t testing.TB, db *DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			out[string(name)+"#seq"] = fmt.Sprint(b.Sequence())
			return b.ForEach(func(k, v []byte) error {
				out[string(name)+"/"+hex.EncodeToString(k)] = string(v)
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func diffDumps(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			out = append(out, "removed "+k)
		} else if w != v {
			out = append(out, fmt.Sprintf("changed %s: %s → %s", k, v, w))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, "added "+k)
		}
	}
	return out
}

func order(id string, n int) scheduler.Order {
	return scheduler.Order{
		PortalID:    id,
		Number:      fmt.Sprintf("W-%06d", n),
		Customer:    "Acme Retail",
		StoreNumber: fmt.Sprint(1000 + n%300),
		SiteName:    fmt.Sprintf("Store %d", n),
		Address:     scheduler.Address{Street: fmt.Sprintf("%d Main St", n), City: "Springfield", State: "IL", Zip: "62701"},
		ServiceCode: "HVAC-PM",
		ServiceName: "Preventive maintenance",
		Items:       []string{"filter 20x25", "belt B42"},
		VisitDate:   fmt.Sprintf("2025-03-%02d", 1+n%28),
		VisitURL:    fmt.Sprintf("https://portal.example/visits/%s", id),
	}
}

func claim(t testing.TB, db *DB, r scheduler.Run) scheduler.Run {
	t.Helper()
	got, err := db.ClaimRun(r)
	if err != nil {
		t.Fatalf("ClaimRun(%+v): %v", r, err)
	}
	return got
}

func fileBytes(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func assertUnchanged(t testing.TB, path string, before []byte) {
	t.Helper()
	after := fileBytes(t, path)
	if !bytes.Equal(before, after) {
		t.Errorf("%s was modified by a failed open (%d bytes before, %d after)", path, len(before), len(after))
	}
}

const (
	helperEnvDB   = "WORKTRAY_STORE_HELPER_DB"
	helperEnvMode = "WORKTRAY_STORE_HELPER_MODE"
)

// TestHelperProcess is not a test: the lock tests run the test binary again with it to hold a
// store open in another process until its stdin closes.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnvDB)
	if path == "" {
		t.Skip("the helper process of the lock tests")
	}
	db, err := Open(path, Options{ReadOnly: os.Getenv(helperEnvMode) == "ro"})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = db.Close()
	os.Exit(0)
}

// holdInChild opens path in a child process (mode "rw" or "ro") and returns once the child
// holds it. The returned func, also run at cleanup, makes the child close it and exit.
func holdInChild(t *testing.T, path, mode string) (release func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnvDB+"="+path, helperEnvMode+"="+mode)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_ = stdin.Close()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(release)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		release()
		t.Fatalf("helper process did not open %s (%s): %q %v", path, mode, line, err)
	}
	return release
}

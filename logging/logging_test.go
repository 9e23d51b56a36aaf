package logging_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"worktray/logging"
	"worktray/secret"
)

var berlin = mustLoad("Europe/Berlin")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Records go to the file of their local day; the file changes at local midnight, not UTC's.
func TestRotatesAtLocalMidnight(t *testing.T) {
	dir := t.TempDir()
	fc := clockwork.NewFakeClockAt(time.Date(2026, 3, 2, 23, 59, 50, 0, berlin))
	var stderr bytes.Buffer
	log, closer, err := logging.New(logging.Options{Dir: dir, Clock: fc, Location: berlin, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	log.Info("before midnight", "n", 1)
	fc.Advance(20 * time.Second) // 00:00:10 in Berlin, still 23:00 UTC on the 2nd
	log.Info("after midnight", "n", 2)

	if got, want := files(t, dir), []string{"worktray-2026-03-02.jsonl", "worktray-2026-03-03.jsonl"}; !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	day1, day2 := read(t, filepath.Join(dir, "worktray-2026-03-02.jsonl")), read(t, filepath.Join(dir, "worktray-2026-03-03.jsonl"))
	if !strings.Contains(day1, `"msg":"before midnight"`) || strings.Contains(day1, "after midnight") {
		t.Errorf("day 1 file: %s", day1)
	}
	if !strings.Contains(day2, `"msg":"after midnight"`) || !strings.Contains(day2, `"n":2`) {
		t.Errorf("day 2 file: %s", day2)
	}
	if !strings.Contains(stderr.String(), `msg="before midnight"`) || !strings.Contains(stderr.String(), "level=INFO") {
		t.Errorf("stderr: %s", stderr.String())
	}
	if fi, _ := os.Stat(filepath.Join(dir, "worktray-2026-03-03.jsonl")); fi.Mode().Perm() != 0o600 {
		t.Errorf("log file mode %v, want 0600", fi.Mode().Perm())
	}
}

// Files older than 14 days are deleted at start and at each rotation; other files are left.
func TestRetention(t *testing.T) {
	dir := t.TempDir()
	today := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	for i := 1; i <= 20; i++ {
		name := logging.FileName(today.AddDate(0, 0, -i))
		if err := os.WriteFile(filepath.Join(dir, name), []byte("{}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o600)
	fc := clockwork.NewFakeClockAt(today)
	log, closer, err := logging.New(logging.Options{Dir: dir, Clock: fc, Location: time.UTC, Stderr: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	got := files(t, dir)
	// Kept: today and the 13 days before it (7 March .. 20 March) plus the foreign file.
	if len(got) != 15 || got[0] != "notes.txt" || got[1] != "worktray-2026-03-07.jsonl" || got[14] != "worktray-2026-03-20.jsonl" {
		t.Fatalf("after start: %v", got)
	}
	fc.Advance(24 * time.Hour)
	log.Info("next day")
	got = files(t, dir)
	if slices.Contains(got, "worktray-2026-03-07.jsonl") || !slices.Contains(got, "worktray-2026-03-21.jsonl") || len(got) != 15 {
		t.Fatalf("after rotation: %v", got)
	}
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

// The hook: secret-looking keys are replaced, and registered values are scrubbed from the
// message and every attribute, in the file and on stderr.
func TestRedaction(t *testing.T) {
	dir := t.TempDir()
	var r secret.Redactor
	const pw = "Tr0ub4dor&3"
	r.Add(pw)
	var stderr bytes.Buffer
	log, closer, err := logging.New(logging.Options{Dir: dir, Stderr: &stderr, Redactor: &r, Level: slog.LevelDebug, FileLevel: slog.LevelDebug})
	if err != nil {
		t.Fatal(err)
	}
	log = log.With("bound", "bound "+pw)
	log.Info("login as bob with "+pw,
		"password", "not-registered-but-keyed",
		"Pushover_Token", "abc",
		"user_key", "def",
		"session_cookie", "ghi",
		"detail", "typed "+pw,
		"err", fmt.Errorf("portal said: bad password %q", pw),
		slog.Group("portal", "url", "https://x", "form", map[string]string{"pw": pw}),
		"stringer", stringer{"s " + pw},
		"empty_token", "",
	)
	log.WithGroup("g").Debug("debug", "x", []string{pw})
	closer.Close()
	data := read(t, filepath.Join(dir, logging.FileName(time.Now())))
	for _, out := range []string{data, stderr.String()} {
		for _, leak := range []string{pw, "not-registered-but-keyed", `"abc"`, "def", "ghi", "Tr0ub4dor"} {
			if strings.Contains(out, leak) {
				t.Errorf("output contains %q:\n%s", leak, out)
			}
		}
	}
	for _, want := range []string{`"password":"[redacted]"`, `"msg":"login as bob with [redacted]"`, `"bound":"bound [redacted]"`,
		`"url":"https://x"`, `"empty_token":""`, `"detail":"typed [redacted]"`} {
		if !strings.Contains(data, want) {
			t.Errorf("file lacks %s:\n%s", want, data)
		}
	}
}

// Logging from many goroutines across a rotation loses and mixes nothing.
func TestConcurrentAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	fc := clockwork.NewFakeClockAt(time.Date(2026, 3, 2, 23, 59, 59, 0, time.UTC))
	log, closer, err := logging.New(logging.Options{Dir: dir, Clock: fc, Location: time.UTC, Stderr: &syncDiscard{}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				log.Info("record", "g", g, "i", i)
				if g == 0 && i == 100 {
					fc.Advance(2 * time.Second)
				}
			}
		}()
	}
	wg.Wait()
	closer.Close()
	total := 0
	for _, f := range files(t, dir) {
		for _, line := range strings.Split(strings.TrimSpace(read(t, filepath.Join(dir, f))), "\n") {
			if !strings.HasPrefix(line, "{") || !strings.HasSuffix(line, "}") {
				t.Fatalf("mangled line %q", line)
			}
			total++
		}
	}
	if total != 1600 || len(files(t, dir)) != 2 {
		t.Errorf("records = %d in %v, want 1600 in 2 files", total, files(t, dir))
	}
}

type syncDiscard struct{}

func (*syncDiscard) Write(p []byte) (int, error) { return len(p), nil }

// Secrets leak test: after saving secrets and logging with them every way the code might, no
// log file contains their bytes.
func TestSecretsNeverReachLogFiles(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	root := t.TempDir()
	secrets, err := secret.Open(filepath.Join(root, "config"), true)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{
		secret.PortalPassword:  `hunter2-"quoted"<&>`,
		secret.PushoverToken:   "azGDORePK8gMaC0QOYAMyEEuzJnyUi",
		secret.PushoverUserKey: "uQiRzpo4DXghDmr9QzzfQu27cmVRsG",
	}
	for k, v := range values {
		if err := secrets.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	logDir := filepath.Join(root, "logs")
	var stderr bytes.Buffer
	log, closer, err := logging.New(logging.Options{Dir: logDir, Stderr: &stderr, Redactor: secrets.Redactor(), FileLevel: slog.LevelDebug})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		log.Info("saved "+k+" = "+v, "name", k, "value", v, "err", errors.New("failed with "+v), "any", struct{ V string }{v})
		log.Debug("form", "body", "token="+v+"&user="+v)
	}
	// A secret set after the logger was built is scrubbed too.
	if err := secrets.Set(secret.PortalPassword, "n3w-p4ssw0rd"); err != nil {
		t.Fatal(err)
	}
	values["new"] = "n3w-p4ssw0rd"
	log.Warn("retrying login", "pw", "n3w-p4ssw0rd")
	closer.Close()

	var all []byte
	for _, f := range files(t, logDir) {
		b, _ := os.ReadFile(filepath.Join(logDir, f))
		all = append(all, b...)
	}
	if len(all) == 0 {
		t.Fatal("nothing was logged")
	}
	all = append(all, stderr.Bytes()...)
	for _, v := range values {
		if bytes.Contains(all, []byte(v)) {
			t.Errorf("logs contain the secret %q", v)
		}
		if q := strings.Trim(fmt.Sprintf("%q", v), `"`); bytes.Contains(all, []byte(q)) {
			t.Errorf("logs contain the escaped secret %s", q)
		}
	}
}

package secret

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"worktray/scheduler"
)

const (
	token = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
	user  = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
	pass  = `p@ss "w0rd"\with/odd<chars>`
)

// noBus makes sure no test here talks to the developer's real session bus.
func noBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
}

func TestFileStore(t *testing.T) {
	noBus(t)
	dir := filepath.Join(t.TempDir(), "config")
	s, err := Open(dir, true) // asks for the keyring, but none answers: the file is used
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != BackendFile {
		t.Fatalf("backend = %s, want file", s.Backend())
	}
	if _, err := s.Get(PortalPassword); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Set = %v, want ErrNotFound", err)
	}
	for name, v := range map[string]string{PortalPassword: pass, PushoverToken: token, PushoverUserKey: user} {
		if err := s.Set(name, v); err != nil {
			t.Fatalf("Set %s: %v", name, err)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("config dir mode = %v, want 0700", di.Mode().Perm())
	}

	// Reopened (a new process): same values, and the redactor knows them from the start.
	s2, err := Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s2.Get(PortalPassword); got != pass {
		t.Errorf("Get after reopen = %q", got)
	}
	tok, usr, err := s2.PushoverCredentials()
	if err != nil || tok != token || usr != user {
		t.Errorf("PushoverCredentials = %q %q %v", tok, usr, err)
	}
	line := "login " + pass + " token=" + token + " user " + user
	if got := s2.Redactor().Redact(line); strings.Contains(got, pass) || strings.Contains(got, token) || strings.Contains(got, user) {
		t.Errorf("Redact = %q", got)
	}
	if err := s2.Delete(PortalPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Get(PortalPassword); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete = %v", err)
	}
	if err := s2.Delete(PortalPassword); err != nil {
		t.Errorf("second Delete = %v", err)
	}

	// A loosened mode is tightened on the next read.
	os.Chmod(filepath.Join(dir, FileName), 0o644)
	if _, err := s2.Get(PushoverToken); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, FileName)); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after read = %v, want 0600", fi.Mode().Perm())
	}
}

func TestValidateNamesFieldNeverEchoesValue(t *testing.T) {
	noBus(t)
	s, err := Open(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, value string }{
		{PushoverToken, "azGDORePK8gMaC0QOYAMyEEuzJnyU"},    // 29
		{PushoverUserKey, "uQiRzpo4DXghDmr9QzzfQu27cmVRs!"}, // bad char
		{PushoverUserKey, ""},
		{PortalPassword, "line\nbreak-secret"},
	}
	for _, tt := range tests {
		err := s.Set(tt.name, tt.value)
		var fe *scheduler.FieldError
		if !errors.As(err, &fe) || fe.Field != tt.name {
			t.Errorf("Set(%s) = %v, want a field error naming %s", tt.name, err, tt.name)
			continue
		}
		if tt.value != "" && strings.Contains(err.Error(), tt.value) {
			t.Errorf("error %q echoes the value", err)
		}
	}
	if err := s.Set("bank_pin", "1234"); !errors.Is(err, ErrUnknownName) {
		t.Errorf("unknown name = %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.dirForTest(), FileName)); err == nil {
		t.Error("an invalid value was written")
	}
}

func (s *Store) dirForTest() string { return filepath.Dir(s.b.(*fileBackend).path) }

// The keyring is used when it answers, and secrets from an earlier fallback file move into it.
func TestKeyringUsedAndFileMigrated(t *testing.T) {
	dir := t.TempDir()
	noBus(t)
	f, err := Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set(PushoverToken, token); err != nil {
		t.Fatal(err)
	}

	keyring.MockInit() // go-keyring's in-memory provider (process-wide; this test is last to need the real one)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent-mock")
	s, err := Open(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != BackendKeyring {
		t.Fatalf("backend = %s, want keyring", s.Backend())
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); !os.IsNotExist(err) {
		t.Errorf("fallback file still there after migration: %v", err)
	}
	if got, err := s.Get(PushoverToken); err != nil || got != token {
		t.Errorf("migrated token = %q, %v", got, err)
	}
	if err := s.Set(PortalPassword, pass); err != nil {
		t.Fatal(err)
	}
	if got, _ := keyring.Get("worktray", PortalPassword); got != pass {
		t.Errorf("keyring holds %q", got)
	}
	if got := s.Redactor().Redact("x " + token + " " + pass); strings.Contains(got, token) || strings.Contains(got, pass) {
		t.Errorf("Redact = %q", got)
	}
}

// With a session bus but no Secret Service on it, Open falls back to the file quickly. It runs
// in a child process so go-keyring's real provider (and its shared bus connection) is fresh.
func TestNoSecretServiceFallsBackToFile(t *testing.T) {
	if os.Getenv("WORKTRAY_SECRET_CHILD") == "1" {
		start := time.Now()
		s, err := Open(os.Getenv("WORKTRAY_SECRET_DIR"), true)
		if err != nil {
			t.Fatal(err)
		}
		if s.Backend() != BackendFile {
			t.Fatalf("backend = %s", s.Backend())
		}
		if el := time.Since(start); el > KeyringTimeout {
			t.Fatalf("probe took %v", el)
		}
		return
	}
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("no dbus-daemon binary: cannot start a private session bus")
	}
	bus := exec.Command(bin, "--session", "--nofork", "--nopidfile", "--print-address=1")
	out, _ := bus.StdoutPipe()
	if err := bus.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Process.Kill(); bus.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoSecretServiceFallsBackToFile$", "-test.v")
	cmd.Env = append(os.Environ(), "WORKTRAY_SECRET_CHILD=1", "WORKTRAY_SECRET_DIR="+t.TempDir(),
		"DBUS_SESSION_BUS_ADDRESS="+strings.TrimSpace(addr))
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "PASS") {
		t.Fatalf("child: %v\n%s", err, b)
	}
}

func TestRedactorJSONEscapedAndRemoved(t *testing.T) {
	var r Redactor
	r.Add(pass, "", "short")
	// The JSON-escaped form of the password (as it would appear in a JSON log line).
	if got := r.Redact(`{"msg":"p@ss \"w0rd\"\\with/odd<chars>"}`); strings.Contains(got, "w0rd") {
		t.Errorf("JSON-escaped secret not redacted: %s", got)
	}
	r.Remove("short")
	if got := r.Redact("short"); got != "short" {
		t.Errorf("removed value still redacted: %q", got)
	}
	if got := r.Redact("nothing here"); got != "nothing here" {
		t.Errorf("Redact changed %q", got)
	}
}

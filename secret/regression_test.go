package secret

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// TestInspectMovesNothing: diagnose (no owner) reads the secrets where they are and never moves
// the file into the keyring, which would pull them from under an owner that uses the file.
func TestInspectMovesNothing(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", "")
	owner, err := Open(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if owner.Backend() != BackendFile {
		t.Fatalf("backend %s, want the file with no keyring", owner.Backend())
	}
	if err := owner.Set(PortalPassword, "hunter2-secret"); err != nil {
		t.Fatal(err)
	}
	keyring.MockInit() // now a keyring answers
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
	ins, err := Inspect(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := ins.Get(PortalPassword); err != nil || v != "hunter2-secret" {
		t.Fatalf("Inspect reads %q, %v; want the file's password", v, err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Fatalf("the secrets file is gone after Inspect: %v", err)
	}
	if v, err := owner.Get(PortalPassword); err != nil || v != "hunter2-secret" {
		t.Fatalf("the owner lost its password: %q, %v", v, err)
	}
}

type slowBackend struct{ m map[string]string }

func (b *slowBackend) get(name string) (string, error) {
	if v, ok := b.m[name]; ok {
		return v, nil
	}
	return "", ErrNotFound
}

func (b *slowBackend) set(name, value string) error {
	return withTimeout(func() error {
		time.Sleep(KeyringTimeout + 200*time.Millisecond) // the user unlocks the collection late
		b.m[name] = value
		return nil
	})
}

func (b *slowBackend) del(name string) error { delete(b.m, name); return nil }

// TestTimedOutSetIsRedacted: a keyring write that times out may still land; its value is
// redacted all the same.
func TestTimedOutSetIsRedacted(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the keyring timeout")
	}
	s := openWith(&slowBackend{m: map[string]string{}}, BackendKeyring)
	if err := s.Set(PortalPassword, "correct-horse-battery"); err == nil {
		t.Fatal("a keyring write past its timeout reported success")
	}
	if got := s.Redactor().Redact("login failed for correct-horse-battery"); got != "login failed for "+Redacted {
		t.Fatalf("not redacted: %q", got)
	}
	time.Sleep(300 * time.Millisecond) // let the late write land before the test ends
}

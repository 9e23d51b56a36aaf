package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const helperEnvUnreadable = "WORKTRAY_STORE_UNREADABLE"

// TestUnreadableHelper is not a test: TestOpenUnreadableFile runs the test binary again with it,
// as an unprivileged user, to open a store that user may not read.
func TestUnreadableHelper(t *testing.T) {
	path := os.Getenv(helperEnvUnreadable)
	if path == "" {
		t.Skip("the helper process of TestOpenUnreadableFile")
	}
	for _, ro := range []bool{true, false} {
		db, err := Open(path, Options{ReadOnly: ro})
		if err == nil {
			_ = db.Close()
		}
		fmt.Printf("read-only=%v unreadable=%v corrupt=%v: %v\n", ro, errors.Is(err, ErrUnreadable), errors.Is(err, ErrCorrupt), err)
	}
	os.Exit(0)
}

// TestOpenUnreadableFile: an existing store the user may not read is never replaced or taken
// for a new one: Open (read-only and read-write) fails with ErrUnreadable naming the file and
// the newest backup, and the file stays as it was. As root (who reads every file) the opens run
// in a child process of an unprivileged user.
func TestOpenUnreadableFile(t *testing.T) {
	// A directory every user may enter, holding a store only its owner may read and a backup
	// anyone may read.
	dir, err := os.MkdirTemp("", "wtunreadable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "worktray.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutSetting("general", "x"); err != nil {
		t.Fatal(err)
	}
	backup, _, err := db.DailyBackup(t.Context(), DefaultBackupDir(path), t0, BackupKeep)
	if err != nil {
		t.Fatal(err)
	}
	checkAndClose(t, db)
	for _, p := range []struct {
		path string
		mode os.FileMode
	}{{dir, 0o755}, {DefaultBackupDir(path), 0o755}, {backup, 0o644}, {path, 0o000}} {
		if err := os.Chmod(p.path, p.mode); err != nil {
			t.Fatal(err)
		}
	}
	before := fileBytes(t, path)

	var out string
	if os.Getuid() != 0 {
		var lines []string
		for _, ro := range []bool{true, false} {
			_, err := Open(path, Options{ReadOnly: ro})
			lines = append(lines, fmt.Sprintf("read-only=%v unreadable=%v corrupt=%v: %v", ro, errors.Is(err, ErrUnreadable), errors.Is(err, ErrCorrupt), err))
		}
		out = strings.Join(lines, "\n")
	} else {
		// The test binary may sit in a directory only root may enter: run a copy.
		bin := filepath.Join(dir, "store.test")
		copyFile(t, os.Args[0], bin, 0o755)
		cmd := exec.Command(bin, "-test.run=^TestUnreadableHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnvUnreadable+"="+path)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		cmd.Dir = dir
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Skipf("cannot run a process as an unprivileged user here: %v: %s", err, b)
		}
		out = string(b)
	}
	t.Log(out)
	for _, ro := range []bool{true, false} {
		line := fmt.Sprintf("read-only=%v unreadable=true corrupt=false: the store %s cannot be read", ro, path)
		if !strings.Contains(out, line) {
			t.Errorf("want a line %q in:\n%s", line, out)
		}
	}
	if !strings.Contains(out, "permission denied") || !strings.Contains(out, "owner and permissions") ||
		!strings.Contains(out, "worktray backup restore "+backup) {
		t.Errorf("the errors do not say why or name the backup %s:\n%s", backup, out)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	assertUnchanged(t, path, before)
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

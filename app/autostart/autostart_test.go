package autostart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnableDisable(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("PATH", t.TempDir()) // no installed worktray: the entry runs exe
	e := Default("/opt/worktray/bin/worktray")
	if e.Enabled() {
		t.Fatal("enabled before anything was written")
	}
	if err := e.SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	if !e.Enabled() {
		t.Fatal("not enabled after SetEnabled(true)")
	}
	b, _ := os.ReadFile(e.Path)
	if !strings.Contains(string(b), "Exec=/opt/worktray/bin/worktray\n") || filepath.Base(e.Path) != "worktray.desktop" {
		t.Errorf("entry %s:\n%s", e.Path, b)
	}
	if err := e.SetEnabled(false); err != nil || e.Enabled() {
		t.Fatalf("after SetEnabled(false): err %v, enabled %v", err, e.Enabled())
	}
	if err := e.SetEnabled(false); err != nil {
		t.Fatalf("disabling twice: %v", err)
	}
}

func TestQuoteExec(t *testing.T) {
	if got := quoteExec("/home/a b/worktray"); got != `"/home/a b/worktray"` {
		t.Errorf("quoteExec = %s", got)
	}
}

// The entry runs the installed binary (on $PATH), not the build tree's that wrote it.
func TestEntryRunsInstalledBinary(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	bin := t.TempDir()
	installed := filepath.Join(bin, "worktray")
	if err := os.WriteFile(installed, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	e := Default(filepath.Join(t.TempDir(), "src", "worktray"))
	if e.Exec != installed {
		t.Fatalf("Exec = %q, want the installed %q", e.Exec, installed)
	}
}

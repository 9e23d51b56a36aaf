package autostart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnableDisable(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
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

package main

import (
	"bytes"
	"io"
	"os"
	"testing"

	"worktray/cli"
)

// docs/cli.md is the command line's own help: regenerate it with
// `WORKTRAY_UPDATE_DOCS=1 go test -run TestCLIReference .` after changing a command.
func TestCLIReferenceIsCurrent(t *testing.T) {
	var b bytes.Buffer
	if err := cli.WriteReference(&b, program(io.Discard, io.Discard)); err != nil {
		t.Fatal(err)
	}
	const file = "docs/cli.md"
	if os.Getenv("WORKTRAY_UPDATE_DOCS") != "" {
		if err := os.MkdirAll("docs", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v; generate it with WORKTRAY_UPDATE_DOCS=1 go test -run TestCLIReference .", err)
	}
	if !bytes.Equal(have, b.Bytes()) {
		t.Fatalf("%s is out of date with the commands' help; regenerate it with WORKTRAY_UPDATE_DOCS=1 go test -run TestCLIReference .", file)
	}
	for _, want := range []string{"## worktray status", "## worktray schedule set", "--minute", "## Exit codes", "## worktray demo-portal"} {
		if !bytes.Contains(have, []byte(want)) {
			t.Errorf("%s lacks %q", file, want)
		}
	}
}

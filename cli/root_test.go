package cli

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"
)

// program is a command line whose owner and externals only record that they ran.
func program(out, errw *bytes.Buffer, ran *[]string) Program {
	ext := func(name string, flags func(*flag.FlagSet)) External {
		return External{Name: name, Summary: name + " summary", Flags: flags,
			Run: func(_ context.Context, args []string) int {
				*ran = append(*ran, name+" "+strings.Join(args, " "))
				return 0
			}}
	}
	ownerFlags := func(fs *flag.FlagSet) {
		fs.Bool("headless", false, "run without a tray icon")
		fs.String("data-dir", "", "keep every file under this directory")
	}
	return Program{
		IO:        IO{In: strings.NewReader(""), Out: out, Err: errw},
		Owner:     ext("owner", ownerFlags),
		Externals: []External{ext("run", ownerFlags), ext("ui", nil), ext("demo-portal", nil)},
	}
}

func execute(t *testing.T, args ...string) (code int, stdout, stderr string, ran []string) {
	t.Helper()
	var out, errw bytes.Buffer
	code = Execute(t.Context(), args, program(&out, &errw, &ran))
	return code, out.String(), errw.String(), ran
}

// Every form of help exits 0 and describes the commands, their flags and the exit codes.
func TestHelpExitsZeroAndDescribesEverything(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, out, errw, ran := execute(t, args...)
		if code != 0 || len(ran) != 0 {
			t.Fatalf("%v: exit %d, ran %v, stderr %s", args, code, ran, errw)
		}
		for _, want := range append(Commands(), "run", "ui", "demo-portal", "completion", "version", "Exit codes:", "--headless") {
			if !strings.Contains(out, want) {
				t.Errorf("%v: help does not mention %q:\n%s", args, want, out)
			}
		}
	}
	for _, name := range Commands() {
		for _, args := range [][]string{{"help", name}, {name, "--help"}, {name, "-h"}} {
			code, out, errw, _ := execute(t, args...)
			if code != 0 {
				t.Errorf("%v: exit %d, stderr %s", args, code, errw)
				continue
			}
			if !strings.Contains(out, "worktray "+name) || !strings.Contains(out, "--data-dir") {
				t.Errorf("%v: help does not show the command and its flags:\n%s", args, out)
			}
		}
		for _, sub := range helps[name].subs {
			code, out, errw, _ := execute(t, name, sub.name, "--help")
			if code != 0 || !strings.Contains(out, "worktray "+name+" "+sub.name) {
				t.Errorf("%s %s --help: exit %d, stderr %s, out:\n%s", name, sub.name, code, errw, out)
			}
		}
	}
	// A command's own flags are listed: those registered for its subcommand too.
	_, out, _, _ := execute(t, "schedule", "set", "--help")
	for _, want := range []string{"--minute", "--every", "--zone"} {
		if !strings.Contains(out, want) {
			t.Errorf("schedule set --help does not list %s:\n%s", want, out)
		}
	}
	_, out, _, _ = execute(t, "history", "--help")
	if !strings.Contains(out, "-n") || !strings.Contains(out, "--failed") {
		t.Errorf("history --help does not list -n and --failed:\n%s", out)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _, _ := execute(t, args...)
		if code != 0 || !strings.HasPrefix(out, "worktray "+Version) {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
}

// Completion scripts for the three shells, and the completion of commands and flags.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, errw, _ := execute(t, "completion", shell)
		if code != 0 || !strings.Contains(out, "worktray") || len(out) < 500 {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %s", shell, code, len(out), errw)
		}
	}
	_, out, _, _ := execute(t, "__complete", "sch")
	if !strings.Contains(out, "schedule") {
		t.Errorf("completing \"sch\": %q", out)
	}
	_, out, _, _ = execute(t, "__complete", "schedule", "set", "--mi")
	if !strings.Contains(out, "--minute") {
		t.Errorf("completing \"schedule set --mi\": %q", out)
	}
}

// No command runs the owner; flags alone do; an unknown command is a usage error (exit 2)
// with a suggestion.
func TestDispatch(t *testing.T) {
	if code, _, _, ran := execute(t); code != 0 || len(ran) != 1 || ran[0] != "owner " {
		t.Errorf("no arguments: exit %d, ran %v", code, ran)
	}
	if code, _, _, ran := execute(t, "--data-dir", "x"); code != 0 || len(ran) != 1 || ran[0] != "owner --data-dir x" {
		t.Errorf("flags only: exit %d, ran %v", code, ran)
	}
	if code, _, _, ran := execute(t, "run", "--headless"); code != 0 || len(ran) != 1 || ran[0] != "run --headless" {
		t.Errorf("run --headless: exit %d, ran %v", code, ran)
	}
	code, _, errw, ran := execute(t, "statsu")
	if code != ExitUsage || len(ran) != 0 || !strings.Contains(errw, `"status"`) {
		t.Errorf("statsu: exit %d, ran %v, stderr %q", code, ran, errw)
	}
}

// A flag no command knows is a usage error (exit 2) for every command.
func TestBogusFlagExitsTwo(t *testing.T) {
	for _, name := range Commands() {
		code, _, errw, _ := execute(t, name, "--no-such-flag", "--data-dir", t.TempDir())
		if code != ExitUsage {
			t.Errorf("%s --no-such-flag: exit %d, want %d; stderr %s", name, code, ExitUsage, errw)
		}
	}
}

// A help topic or a completion shell that does not exist is a usage error.
func TestUnknownHelpTopicAndShell(t *testing.T) {
	for _, args := range [][]string{{"help", "bogus"}, {"completion", "tcsh"}, {"help", "schedule", "bogus"}} {
		if code, out, errw, _ := execute(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d\n%s%s", args, code, ExitUsage, out, errw)
		}
	}
	if code, out, _, _ := execute(t, "help", "schedule", "set"); code != 0 || !strings.Contains(out, "--minute") {
		t.Errorf("help schedule set: exit %d\n%s", code, out)
	}
}

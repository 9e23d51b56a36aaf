// Package cli implements worktray's command-line commands (status, scrape, cancel, pause, resume,
// history, orders, backup, diagnose, schedule, portal, alerts, retention). Each is a client of the
// owner's control API; with no owner running, the read-only ones open the store read-only and say
// so. Output is for people by default and JSON with --json. Exit codes are documented below; the
// user-facing text of every error is made in one place, Main.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"worktray/control"
	"worktray/paths"
	"worktray/scheduler"
	"worktray/store"
)

// Exit codes of the commands.
const (
	ExitOK        = 0
	ExitError     = 1 // any other failure
	ExitUsage     = 2 // a bad command line
	ExitNoOwner   = 3 // the command needs the owner and none runs
	ExitInvalid   = 4 // a settings value failed validation; nothing changed
	ExitConflict  = 5 // cancel with no scrape running, or a settings write refused (ExitStale)
	ExitUnhealthy = 6 // diagnose found a failing check
	// ExitNotResponding: an owner holds the control socket but did not answer in time (stopped
	// with SIGSTOP, hung); the message names its pid.
	ExitNotResponding = 7
	// ExitStale: a settings write was based on an old revision (someone else saved first);
	// nothing changed. It is the conflict code.
	ExitStale = ExitConflict
	// ExitStore: the store is damaged, empty or unreadable (the message names the file, the
	// newest backup and the restore command), or a write to it did not reach the disk.
	ExitStore = 8

	// The outcome of `scrape` (also for a run it followed).
	ExitLoginFailed   = 10
	ExitTimeout       = 11
	ExitPortalError   = 12
	ExitLayoutChanged = 13
	ExitBrowserFailed = 14
	ExitCanceled      = 15
	ExitInterrupted   = 16 // the owner stopped during the run
	ExitStorageFailed = 17 // the store could not be written
	ExitConfig        = 18 // the configuration cannot be used (no portal set up, a bad profile)
	ExitDetached      = 130
)

// ClassExitCode returns the exit code of a finished run.
func ClassExitCode(r scheduler.Run) int {
	switch r.Status {
	case scheduler.StatusSucceeded:
		return ExitOK
	case scheduler.StatusCanceled:
		return ExitCanceled
	case scheduler.StatusInterrupted:
		return ExitInterrupted
	}
	switch r.ErrorClass {
	case scheduler.ClassLoginFailed:
		return ExitLoginFailed
	case scheduler.ClassTimeout:
		return ExitTimeout
	case scheduler.ClassPortalError:
		return ExitPortalError
	case scheduler.ClassLayoutChanged:
		return ExitLayoutChanged
	case scheduler.ClassBrowserFailed:
		return ExitBrowserFailed
	case scheduler.ClassCanceled:
		return ExitCanceled
	case scheduler.ClassStorageFailed:
		return ExitStorageFailed
	case scheduler.ClassConfig:
		return ExitConfig
	}
	return ExitError
}

// IO is what a command reads and writes, and the hooks the owner's packages provide.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	// LocalDiagnostics, when set, adds checks that need no owner (Chromium found and its version,
	// profile valid, credentials present) to `diagnose` when no owner runs. With an owner, its
	// Diagnostics hook makes them.
	LocalDiagnostics func(ctx context.Context, p paths.Paths) []control.Check
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

type command struct {
	run     func(ctx context.Context, e *env, args []string) error
	summary string
}

var commands = map[string]command{
	"status":    {cmdStatus, "show the next and last run, problems and progress"},
	"scrape":    {cmdScrape, "scrape now and follow it; the exit code is the outcome"},
	"cancel":    {cmdCancel, "cancel the running scrape"},
	"pause":     {cmdPause, "pause scheduled runs"},
	"resume":    {cmdResume, "resume scheduled runs"},
	"history":   {cmdHistory, "list recent runs [-n N] [--failed]"},
	"orders":    {cmdOrders, "list the stored work orders [--new] [--changed] [--sort COL] [--csv|--ics|--json]; orders show NUMBER"},
	"backup":    {cmdBackup, "write a consistent copy of the store to FILE; list or restore the daily backups"},
	"diagnose":  {cmdDiagnose, "check everything worktray depends on [--fix]"},
	"schedule":  {cmdSchedule, "show or set the schedule: schedule show | schedule set --minute 15 ..."},
	"portal":    {cmdPortal, "portal show | portal set --url U --username N | portal test"},
	"alerts":    {cmdAlerts, "alerts set --pushover --keys ... | alerts test"},
	"profile":   {cmdProfile, "profile test [FILE] | check FILE | init [FILE]: write and try a portal profile"},
	"retention": {cmdRetention, "show or set how many runs the history keeps: retention show | retention set --keep N"},
}

// Known reports whether cmd is a command of this package.
func Known(cmd string) bool { _, ok := commands[cmd]; return ok }

// Commands returns the names of the commands, sorted.
func Commands() []string {
	var out []string
	for k := range commands {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// env is one command's context: its flags, paths and output.
type env struct {
	io      IO
	name    string
	dataDir string
	json    bool
	paths   paths.Paths
	client  *control.Client
	now     func() time.Time
	// capture, when set, receives the command's flag set (describe, for help and completion).
	capture **flag.FlagSet
}

// Main runs command cmd with its arguments and returns the exit code. It prints errors once, to
// io.Err.
func Main(ctx context.Context, cmd string, args []string, io IO) int {
	c, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(io.Err, "worktray: unknown command %q\n", cmd)
		return ExitUsage
	}
	if io.In == nil {
		io.In = os.Stdin
	}
	e := &env{io: io, name: cmd, now: io.Now}
	if e.now == nil {
		e.now = time.Now
	}
	err := c.run(ctx, e, args)
	if e.client != nil {
		e.client.Close()
	}
	return e.exit(err)
}

// exitError carries an exit code; its message, if any, has been printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func exitWith(code int, err error) error { return &exitError{code: code, err: err} }

// usageError is a bad command line.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exit prints err (once) and returns its exit code.
func (e *env) exit(err error) int {
	if err == nil {
		return ExitOK
	}
	var (
		xe *exitError
		ue usageError
		ve scheduler.ValidationError
		ce *store.CorruptError
	)
	code := ExitError
	msg := err.Error()
	switch {
	case errors.As(err, &xe):
		code = xe.code
		if xe.err == nil {
			return code
		}
		msg = xe.err.Error()
	case errors.Is(err, flag.ErrHelp):
		return ExitUsage
	case errors.As(err, &ue):
		code = ExitUsage
	case errors.Is(err, control.ErrNotResponding):
		code = ExitNotResponding
		msg = notRespondingMessage(err)
	case errors.Is(err, store.ErrStaleRevision):
		code = ExitStale
		msg = "nothing changed: " + err.Error()
	case errors.Is(err, control.ErrNoOwner):
		code = ExitNoOwner
		msg = "worktray is not running; start it with `worktray` (desktop) or `worktray run --headless` (servers), then try again"
	case errors.As(err, &ve):
		code = ExitInvalid
		msg = "nothing changed: " + describeValidation(ve)
	case errors.Is(err, scheduler.ErrNotRunning):
		code = ExitConflict
		msg = "no scrape is running"
	case errors.Is(err, scheduler.ErrNotStarted):
		msg = "worktray is starting or stopping and cannot take this now; try again in a moment"
	case errors.As(err, &ce):
		// The store's own text names the file and the way out; say which data directory the
		// restore command needs when it came from the command line.
		code = ExitStore
		msg = ce.Error()
		if e.dataDir != "" {
			msg += fmt.Sprintf(" (add --data-dir %s to the commands)", e.dataDir)
		}
	case errors.Is(err, store.ErrWriteFailed), errors.Is(err, store.ErrCorrupt), errors.Is(err, store.ErrUnreadable):
		// A write that did not reach the disk, or a backup that failed its check.
		code = ExitStore
	case errors.Is(err, context.Canceled):
		return ExitDetached
	}
	if e.json {
		writeJSON(e.io.Err, map[string]any{"error": msg, "exit_code": code})
	} else {
		fmt.Fprintf(e.io.Err, "worktray %s: %s\n", e.name, msg)
	}
	return code
}

// unsure adds to the error of a settings write that got no answer (the owner stopped answering
// while it wrote) that the owner applies a write wholly or not at all, and which command shows
// the outcome; other errors are returned as they are.
func unsure(err error, show string) error {
	if !errors.Is(err, control.ErrNotResponding) {
		return err
	}
	return fmt.Errorf("%w; the change was saved whole or not at all: `worktray %s` says which", err, show)
}

// notRespondingMessage says that the owner does not answer and what to do about it.
func notRespondingMessage(err error) string {
	msg := err.Error()
	var ne *control.NotRespondingError
	if errors.As(err, &ne) && ne.PID > 0 {
		return fmt.Sprintf("%s; if it was stopped, `kill -CONT %d` resumes it; if it hangs, `kill %d` and start worktray again", msg, ne.PID, ne.PID)
	}
	return msg + "; if it hangs, stop it and start worktray again"
}

// flagNames maps the core's field names to the CLI's flag names.
var flagNames = map[string]string{
	"every_hours": "every", "grace_minutes": "grace", "retry_backoff_minutes": "backoff",
	"failure_threshold": "threshold", "renotify_minutes": "renotify", "keep_runs": "keep",
	"pushover_enabled": "pushover", "desktop_enabled": "desktop", "quiet_enabled": "quiet",
	"quiet_from": "quiet", "quiet_to": "quiet", "large_drop_alert": "large-drop",
	"pushover_token": "keys", "pushover_user_key": "keys",
}

func describeValidation(ve scheduler.ValidationError) string {
	var parts []string
	for _, f := range ve {
		name := f.Field
		flagName := strings.ReplaceAll(name, "_", "-")
		if n, ok := flagNames[name]; ok {
			flagName = n
		}
		parts = append(parts, fmt.Sprintf("%s (--%s): %s", name, flagName, f.Msg))
	}
	return strings.Join(parts, "; ")
}

// flags returns a flag set with the flags every command takes.
func (e *env) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("worktray "+e.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse errors are said once, by exit; help is the command line's
	fs.StringVar(&e.dataDir, "data-dir", "", "keep every worktray file under this directory (env "+paths.EnvHome+")")
	fs.BoolVar(&e.json, "json", false, "print JSON")
	if e.capture != nil {
		fs.SetOutput(io.Discard)
		*e.capture = fs
	}
	return fs
}

// parse parses args with flags and positional arguments in any order, and resolves the paths.
func (e *env) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v (see `worktray %s --help`)", err, e.name)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	e.paths = paths.FromEnv(e.dataDir)
	return pos, nil
}

// owner returns the client of the owner (it does not connect).
func (e *env) owner() *control.Client {
	if e.client == nil {
		e.client = control.NewClient(e.paths.Socket)
	}
	return e.client
}

// parseNoArgs parses the flags of a command that takes no positional argument.
func (e *env) parseNoArgs(fs *flag.FlagSet, args []string) error {
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	return noArgs(pos)
}

// show prints v: as JSON with --json, else with print; first saying so when v came from the
// store because no owner runs.
func show[T any](e *env, v T, local bool, print func(T)) {
	if local {
		e.note(notRunningNote)
	}
	if e.json {
		writeJSON(e.io.Out, v)
		return
	}
	print(v)
}

// revisionFlag is --revision N of the settings writes: apply the change only if the setting is
// still at revision N (from `show --json`), instead of the revision the command read itself.
type revisionFlag struct {
	set bool
	n   uint64
}

func (r *revisionFlag) String() string {
	if !r.set {
		return ""
	}
	return strconv.FormatUint(r.n, 10)
}

// Type names the value in the help: --revision N.
func (r *revisionFlag) Type() string { return "N" }

func (r *revisionFlag) Set(v string) error {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a revision (a whole number from `show --json`)", v)
	}
	r.n, r.set = n, true
	return nil
}

// register adds --revision to fs; what names the setting.
func (r *revisionFlag) register(fs *flag.FlagSet, what string) {
	fs.Var(r, "revision", "save only if the "+what+" are still at this revision (see --json output); by default, the revision this command reads")
}

// based returns the revision a write is based on: --revision when given, else read.
func (r *revisionFlag) based(read uint64) uint64 {
	if r.set {
		return r.n
	}
	return read
}

// noArgs refuses positional arguments.
func noArgs(pos []string) error {
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	return nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// note tells the user something beside the output: on stdout for people, on stderr with --json
// so that the JSON stays clean.
func (e *env) note(format string, args ...any) {
	w := e.io.Out
	if e.json {
		w = e.io.Err
	}
	fmt.Fprintf(w, format+"\n", args...)
}

const notRunningNote = "worktray is not running; showing the stored state"

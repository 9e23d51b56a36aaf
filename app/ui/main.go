package ui

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"worktray/control"
	"worktray/paths"
)

// Main runs `worktray ui [status|history|orders|settings|portal]` and returns the exit code. Started
// by the owner (--from-owner) it is the windows process and reads window commands on standard
// input. Started by hand it asks the running owner to show the window, so that there is only
// ever one windows process; when the owner is headless or not running it shows the window
// itself, as a client of the control socket.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		home, socket, dataDir, logDir string
		fromOwner                     bool
	)
	fs := flag.NewFlagSet("worktray ui", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&home, "data-dir", "", "keep every worktray file under this directory (env "+paths.EnvHome+")")
	fs.StringVar(&socket, "socket", "", "the owner's control socket (default: from the data directory)")
	fs.BoolVar(&fromOwner, "from-owner", false, "started by the owner: read window commands on standard input")
	fs.StringVar(&dataDir, "data-dir-path", "", "the data folder the settings window opens")
	fs.StringVar(&logDir, "log-dir-path", "", "the log folder the settings window opens")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	window := "status"
	if fs.NArg() > 0 {
		window = fs.Arg(0)
	}
	p := paths.FromEnv(home)
	if socket == "" {
		socket = p.Socket
	}
	if dataDir == "" {
		dataDir = p.DataDir
	}
	if logDir == "" {
		logDir = p.LogDir
	}
	client := control.NewClient(socket)
	defer client.Close()
	var commands io.Reader
	if fromOwner {
		commands = os.Stdin
	} else {
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := client.ShowWindow(sctx, window)
		cancel()
		switch {
		case err == nil:
			return 0
		case errors.Is(err, control.ErrNoOwner):
			fmt.Fprintln(stderr, "worktray is not running; the window will connect when it starts")
		case errors.Is(err, control.ErrNoWindows), errors.Is(err, control.ErrNotSupported):
			// A headless owner (or one without the hook): show the window from here.
		default:
			fmt.Fprintln(stderr, "worktray ui:", err)
		}
	}
	exe, _ := os.Executable()
	if base := os.Getenv(EnvOwnerBinary); base != "" {
		exe = base
	}
	if err := Run(ctx, Options{Window: window, Backend: ControlBackend{C: client}, Commands: commands,
		DataDir: dataDir, LogDir: logDir, Exe: exe}); err != nil {
		fmt.Fprintln(stderr, "worktray ui:", err)
		return 1
	}
	return 0
}

// EnvOwnerBinary names the worktray binary for the start-at-login entry; `worktray ui` sets it
// when it hands over to worktray-ui.
const EnvOwnerBinary = "WORKTRAY_BINARY"

// Command worktray-ui is worktray's windows process: `worktray ui` hands over to it (exec, same
// process id). It is a binary of its own so that the owner, which runs all day, does not link
// Fyne: Fyne's and its dependencies' package initialisation alone doubles a process's resident
// memory (measured here: the owner idles at about 15 MB without Fyne linked, 31 MB with it).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"worktray/app/ui"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := ui.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"worktray/control"
	"worktray/store"
)

func cmdBackup(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: worktray backup FILE")
	}
	path, err := filepath.Abs(pos[0])
	if err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, "worktray-"+e.now().UTC().Format("20060102-150405")+".db")
	}
	res, err := e.owner().Backup(ctx, path)
	if errors.Is(err, control.ErrNoOwner) {
		var db *store.DB
		if db, err = e.openLocal(); err != nil {
			return err
		}
		defer db.Close()
		e.note("worktray is not running; copying the store directly")
		if err = db.Backup(ctx, path); err == nil {
			res = control.BackupResult{Path: path}
			if fi, serr := os.Stat(path); serr == nil {
				res.Bytes = fi.Size()
			}
		}
	}
	if err != nil {
		return err
	}
	if e.json {
		writeJSON(e.io.Out, res)
		return nil
	}
	fmt.Fprintf(e.io.Out, "backed up the store to %s (%s)\n", res.Path, bytesText(res.Bytes))
	return nil
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

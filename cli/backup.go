package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"worktray/control"
	"worktray/store"
)

// cmdBackup is `backup FILE` (a consistent copy of the store), `backup list` (the backups in
// the backup directory) and `backup restore FILE` (replace the store with a backup).
func cmdBackup(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return backupList(e, args[1:])
		case "restore":
			return backupRestore(ctx, e, args[1:])
		}
	}
	return backupCopy(ctx, e, args)
}

// backupCopy writes a consistent copy of the store to FILE (a directory gets a dated name),
// through the owner when one runs, else from the store opened read-only.
func backupCopy(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: worktray backup FILE | worktray backup list | worktray backup restore FILE")
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

// backupList prints the backups in the backup directory, newest first, each checked.
func backupList(e *env, args []string) error {
	fs := e.flags()
	if err := e.parseNoArgs(fs, args); err != nil {
		return err
	}
	list, err := store.ListBackups(e.paths.BackupDir)
	if err != nil {
		return err
	}
	if e.json {
		writeJSON(e.io.Out, nonNil(list))
		return nil
	}
	printBackups(e, list)
	return nil
}

// printBackups renders backups as a table for people.
func printBackups(e *env, list []store.BackupInfo) {
	if len(list) == 0 {
		fmt.Fprintf(e.io.Out, "no backups in %s yet: worktray takes one after the first successful scrape of each day\n", e.paths.BackupDir)
		return
	}
	now := e.now()
	w := tabwriter.NewWriter(e.io.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "TAKEN\tSIZE\tORDERS\tFILE")
	for _, b := range list {
		orders := strconv.Itoa(b.Orders)
		if b.Problem != "" {
			orders = "unusable: " + oneLine(b.Problem, 60)
		}
		fmt.Fprintf(w, "%s (%s)\t%s\t%s\t%s\n", b.Time.Local().Format("2006-01-02 15:04"), relative(b.Time, now), bytesText(b.Bytes), orders, b.Path)
	}
	w.Flush()
	fmt.Fprintf(e.io.Out, "\nrestore one with `worktray backup restore FILE` while worktray is stopped\n")
}

// backupRestore replaces the store with a backup, once the backup passed its check and no
// owner runs. FILE may also be the name of a file in the backup directory.
func backupRestore(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: worktray backup restore FILE (see `worktray backup list`)")
	}
	path, err := e.backupFile(pos[0])
	if err != nil {
		return err
	}
	if st, err := e.owner().Status(ctx); err == nil {
		pid := 0
		if st.Owner != nil {
			pid = st.Owner.PID
		}
		return fmt.Errorf("worktray is running (pid %d); nothing was changed: stop it first (Quit in the tray menu, or stop its service), then run this again", pid)
	} else if !errors.Is(err, control.ErrNoOwner) {
		return err
	}
	res, err := store.Restore(ctx, e.paths.DB, path, e.now())
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("worktray is running (it holds %s); nothing was changed: stop it first, then run this again", e.paths.DB)
	}
	if err != nil {
		return err
	}
	if e.json {
		writeJSON(e.io.Out, res)
		return nil
	}
	fmt.Fprintf(e.io.Out, "restored %s (%d orders) to %s\n", res.Backup, res.Orders, res.Store)
	if res.Replaced != "" {
		fmt.Fprintf(e.io.Out, "the replaced store was kept as %s\n", res.Replaced)
	}
	fmt.Fprintln(e.io.Out, "start worktray again with `worktray` (desktop) or `worktray run --headless` (servers)")
	return nil
}

// backupFile resolves the FILE of `backup restore`: a path, or the name of a file in the
// backup directory.
func (e *env) backupFile(arg string) (string, error) {
	path, err := filepath.Abs(arg)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if !strings.ContainsRune(arg, filepath.Separator) {
		inDir := filepath.Join(e.paths.BackupDir, arg)
		if _, err := os.Stat(inDir); err == nil {
			return inDir, nil
		}
	}
	return "", fmt.Errorf("no backup file %s (see `worktray backup list`)", path)
}

// backupCheck reports the newest backup: ok when one is at most two days old, a warning when
// the newest is older, information when there is none yet.
func (e *env) backupCheck(d *diagnosis) {
	list, err := store.ListBackups(e.paths.BackupDir)
	if err != nil {
		d.add("backups", control.CheckWarn, "", "%v", err)
		return
	}
	var usable []store.BackupInfo
	for _, b := range list {
		if b.Problem == "" {
			usable = append(usable, b)
		}
	}
	if len(usable) == 0 {
		d.add("backups", control.CheckInfo, "", "no usable backup in %s yet: worktray takes one after the first successful scrape of each day", e.paths.BackupDir)
		return
	}
	now := e.now()
	b := usable[0]
	status, fix := control.CheckOK, ""
	if now.Sub(b.Time) > 48*time.Hour {
		status, fix = control.CheckWarn, "backups are taken after a successful scrape: see the failing and missed checks"
	}
	d.add("backups", status, fix, "newest %s, taken %s (%s), %d orders; %d usable backup%s in %s",
		filepath.Base(b.Path), clock(b.Time, now), relative(b.Time, now), b.Orders, len(usable), plural(len(usable)), e.paths.BackupDir)
}

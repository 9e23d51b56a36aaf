package control

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"worktray/scheduler"
)

func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	var req BackupRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Path == "" || !filepath.IsAbs(req.Path) {
		writeError(w, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("path must be absolute, got %q", req.Path), "path")
		return
	}
	if err := s.cfg.Store.Backup(r.Context(), req.Path); err != nil {
		s.fail(w, r, err)
		return
	}
	res := BackupResult{Path: req.Path}
	if fi, err := os.Stat(req.Path); err == nil {
		res.Bytes = fi.Size()
	}
	s.log.Info("store backed up", "path", req.Path, "bytes", res.Bytes)
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) diagnose(w http.ResponseWriter, r *http.Request) {
	var req DiagnoseRequest
	if !decodeBody(w, r, &req) {
		return
	}
	writeJSON(w, http.StatusOK, s.Diagnose(r.Context(), req.Fix))
}

// Diagnose runs the checks only the owner can make (the store's integrity, runs left "running",
// and the Diagnostics hook's). With fix and a slot overdue, it runs the scheduler's wall-clock
// check at once (Scheduler.CheckNow): the slot starts and is claimed, so it does not run again
// afterwards; while another run is in progress the slot keeps waiting for it, and the diagnosis
// says so. Fixed lists only what did start. It blocks for as long as the checks take.
func (s *Server) Diagnose(ctx context.Context, fix bool) Diagnosis {
	var d Diagnosis
	if err := s.checkStore(); err != nil {
		d.Checks = append(d.Checks, Check{Name: "store integrity", Status: CheckFail, Detail: err.Error(),
			Fix: "stop worktray, then restore a backup: `worktray backup list`, `worktray backup restore FILE`"})
	} else {
		d.Checks = append(d.Checks, Check{Name: "store integrity", Status: CheckOK, Detail: "consistent"})
	}
	snap := s.cfg.Scheduler.Snapshot()
	running, err := s.cfg.Store.RunningRuns()
	switch {
	case err != nil:
		d.Checks = append(d.Checks, Check{Name: "running records", Status: CheckFail, Detail: err.Error()})
	default:
		var stale []string
		for _, r := range running {
			if snap.Running == nil || snap.Running.ID != r.ID {
				stale = append(stale, fmt.Sprintf("run %d (pid %d)", r.ID, r.PID))
			}
		}
		if len(stale) > 0 {
			d.Checks = append(d.Checks, Check{Name: "running records", Status: CheckWarn,
				Detail: "marked running but not running: " + strings.Join(stale, ", "),
				Fix:    "restart worktray: the owner marks them interrupted when it starts"})
		} else {
			d.Checks = append(d.Checks, Check{Name: "running records", Status: CheckOK, Detail: "none left running"})
		}
	}
	if s.cfg.Hooks.Diagnostics != nil {
		d.Checks = append(d.Checks, s.cfg.Hooks.Diagnostics(ctx)...)
	} else {
		d.Checks = append(d.Checks, Check{Name: "browser and portal", Status: CheckInfo,
			Detail: "not checked: this worktray does not provide the browser, profile and credential checks"})
	}
	if fix {
		s.catchUp(&d)
	}
	return d
}

// catchUp starts an overdue slot now, through the scheduler's wall-clock check, and says in d
// what happened. The slot's record in the store is the truth: a run that claimed it, or a
// missed record, or none while another run holds the single flight.
func (s *Server) catchUp(d *Diagnosis) {
	before := s.cfg.Scheduler.Snapshot()
	if !before.Overdue() {
		return
	}
	slot := before.OverdueSlot.Format(time.RFC3339)
	run, err := s.cfg.Scheduler.CheckNow()
	if err != nil {
		d.Checks = append(d.Checks, Check{Name: "catch-up", Status: CheckFail,
			Detail: fmt.Sprintf("could not start the overdue %s slot: %v", slot, err),
			Fix:    "try again in a moment"})
		return
	}
	after := s.cfg.Scheduler.Snapshot()
	rec, recErr := s.cfg.Store.RunBySlot(before.OverdueSlot)
	started := run != nil && (before.Running == nil || before.Running.ID != run.ID)
	switch {
	case recErr == nil && rec.Status != scheduler.StatusMissed && !rec.Started.Before(before.Now):
		d.Fixed = append(d.Fixed, fmt.Sprintf("started run %d for the overdue %s slot (the slot is claimed: it does not run again)",
			rec.ID, slot))
	case recErr == nil && rec.Status != scheduler.StatusMissed:
		d.Checks = append(d.Checks, Check{Name: "catch-up", Status: CheckInfo,
			Detail: fmt.Sprintf("nothing started: the %s slot already had run %d", slot, rec.ID)})
	case recErr == nil && started:
		d.Fixed = append(d.Fixed, fmt.Sprintf("the %s slot passed its grace period and was recorded missed; started catch-up run %d",
			slot, run.ID))
	case recErr == nil:
		d.Checks = append(d.Checks, Check{Name: "catch-up", Status: CheckWarn,
			Detail: fmt.Sprintf("the %s slot passed its grace period and was recorded missed; no catch-up run started", slot)})
	case !errors.Is(recErr, scheduler.ErrNotFound):
		d.Checks = append(d.Checks, Check{Name: "catch-up", Status: CheckFail,
			Detail: fmt.Sprintf("could not read the record of the %s slot: %v", slot, recErr)})
	case run != nil && after.Overdue():
		d.Checks = append(d.Checks, Check{Name: "catch-up", Status: CheckWarn,
			Detail: fmt.Sprintf("the overdue %s slot is still waiting: run %d is in progress, and the slot starts when it ends",
				slot, run.ID),
			Fix: "wait for run " + strconv.FormatUint(run.ID, 10) + " to end, or cancel it with `worktray cancel`"})
	default:
		d.Checks = append(d.Checks, Check{Name: "catch-up", Status: CheckFail,
			Detail: fmt.Sprintf("the overdue %s slot did not start", slot),
			Fix:    "see the log; the scheduler tries again on its next check"})
	}
}

// checkStore runs the store's consistency check. A check in a read transaction can report pages
// that a concurrent write just freed or allocated (bbolt's Tx.Check reads the live freelist), so
// a failure counts only when it repeats.
func (s *Server) checkStore() error {
	var err error
	for i := range 3 {
		if err = s.cfg.Store.Check(); err == nil {
			return nil
		}
		time.Sleep(time.Duration(i+1) * 20 * time.Millisecond)
	}
	return err
}

package control

import (
	"fmt"
	"net/http"
	"time"

	"worktray/app/view"
	"worktray/scheduler"
)

func (s *Server) threshold() int {
	if f := s.cfg.Hooks.FailureThreshold; f != nil {
		if n := f(); n >= 1 {
			return n
		}
	}
	return 2
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	h := HealthOf(s.cfg.Scheduler.Snapshot(), s.threshold())
	writeJSON(w, healthCode(h), h)
}

// publicHealth answers the loopback TCP health endpoint: the verdict and its counts only.
func (s *Server) publicHealth(w http.ResponseWriter, r *http.Request) {
	h := healthOf(s.cfg.Scheduler.Snapshot(), s.threshold(), false)
	writeJSON(w, healthCode(h), PublicHealth{Healthy: h.Healthy, Status: h.Status, Problems: h.Problems,
		ConsecutiveFailures: h.ConsecutiveFailures, FailureThreshold: h.FailureThreshold})
}

func healthCode(h Health) int {
	if !h.Healthy {
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}

// HealthOf judges a snapshot: unhealthy when the scheduler is stuck (it cannot arm its next
// slot), the store could not be written (Snapshot.StorageProblem), a slot is overdue, slots were missed with no success
// since, or the last threshold runs (or more) failed; each problem is said in words. Paused is
// healthy. It does no I/O.
func HealthOf(snap scheduler.Snapshot, threshold int) Health {
	return healthOf(snap, threshold, true)
}

// healthOf is HealthOf; without detail, the problems leave out the text of the last error,
// which may name the portal or the user's data.
func healthOf(snap scheduler.Snapshot, threshold int, detail bool) Health {
	h := Health{Healthy: true, Status: "ok", Now: snap.Now, Paused: snap.Paused, Next: snap.Next,
		LastRun: snap.LastRun, OverdueSlot: snap.OverdueSlot,
		ConsecutiveFailures: snap.ConsecutiveFailures, FailureThreshold: threshold,
		Stuck: snap.Stuck, StuckSince: snap.StuckSince, StorageError: snap.StorageError, Unrecorded: snap.Unrecorded}
	if snap.LastSuccess != nil {
		h.LastSuccess = snap.LastSuccess.Finished
	}
	bad := func(status, problem string) {
		if h.Healthy {
			h.Status = status
		}
		h.Healthy = false
		h.Problems = append(h.Problems, problem)
	}
	if snap.Stuck != "" {
		msg := "the scheduler cannot arm its next run: " + snap.Stuck
		if !snap.StuckSince.IsZero() {
			msg = fmt.Sprintf("the scheduler cannot arm its next run since %s: %s", snap.StuckSince.Format(time.RFC3339), snap.Stuck)
		}
		bad("stuck", msg)
	}
	if problem := snap.StorageProblem(); problem != "" {
		msg := "worktray cannot write its store (is the disk full?)"
		if detail {
			msg = "worktray cannot write its store: " + problem
		}
		if snap.Unrecorded > 0 {
			msg += fmt.Sprintf("; %d run%s could not be recorded", snap.Unrecorded, map[bool]string{true: "", false: "s"}[snap.Unrecorded == 1])
		}
		bad("storage_failed", msg)
	}
	if snap.Overdue() {
		bad("overdue", fmt.Sprintf("the %s slot is %s overdue and has not started",
			snap.OverdueSlot.Format(time.RFC3339), snap.OverdueBy.Round(time.Second)))
	}
	if snap.LastMissed != nil {
		bad("missed", snap.LastMissed.Message)
	}
	if snap.ConsecutiveFailures >= threshold {
		msg := fmt.Sprintf("the last %d runs failed", snap.ConsecutiveFailures)
		switch {
		case snap.LastErrorClass != "" && detail:
			msg += fmt.Sprintf(" (%s: %s)", view.ClassText(snap.LastErrorClass), snap.LastError)
		case snap.LastErrorClass != "":
			msg += fmt.Sprintf(" (%s)", view.ClassText(snap.LastErrorClass))
		}
		bad("failing", msg)
	}
	if h.Healthy && snap.Paused {
		h.Status = "paused"
	}
	return h
}

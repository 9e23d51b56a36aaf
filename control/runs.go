package control

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"worktray/scheduler"
	"worktray/store"
)

func (s *Server) statusValue() Status {
	owner := s.cfg.Owner
	return Status{Snapshot: s.cfg.Scheduler.Snapshot(), Owner: &owner, NeedsSetup: s.needsSetup(), Alerts: s.alertDelivery()}
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.statusValue())
}

func (s *Server) scrape(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	run, err := s.cfg.Scheduler.ScrapeNow(r.Context())
	if errors.Is(err, scheduler.ErrAlreadyRunning) {
		writeJSON(w, http.StatusConflict, errorBody{Error: "a scrape is already running (run " +
			strconv.FormatUint(run.ID, 10) + ")", Code: codeAlreadyRunning, Run: &run})
		return
	}
	if err != nil {
		s.fail(w, r, fmt.Errorf("starting a scrape: %w", err))
		return
	}
	writeJSON(w, http.StatusAccepted, RunResponse{Run: run})
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	if err := s.cfg.Scheduler.Cancel(); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.statusValue())
}

func (s *Server) pause(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	if err := s.cfg.Scheduler.Pause(); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.statusValue())
}

func (s *Server) resume(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	if err := s.cfg.Scheduler.Resume(); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.statusValue())
}

// maxHistory bounds GET /api/history?n=.
const maxHistory = 100000

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n := 20
	if v := q.Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > maxHistory {
			writeError(w, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("n must be a number from 1 to %d, got %q", maxHistory, v), "n")
			return
		}
	}
	failed, ok := boolParam(w, r, "failed")
	if !ok {
		return
	}
	runs, err := s.cfg.Store.Runs(store.RunQuery{Limit: n, OnlyFailed: failed})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, RunsResponse{Runs: nonNil(runs)})
}

func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		writeError(w, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("%q is not a run id", r.PathValue("id")), "id")
		return
	}
	run, err := s.cfg.Store.Run(id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

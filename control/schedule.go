package control

import (
	"fmt"
	"net/http"
	"strconv"

	"worktray/scheduler"
)

func (s *Server) schedule(w http.ResponseWriter, r *http.Request) {
	sc := s.cfg.Scheduler.Schedule()
	next, _ := s.cfg.Scheduler.Preview(sc, 5)
	writeJSON(w, http.StatusOK, ScheduleInfo{Schedule: sc, NextRuns: nonNil(next)})
}

func (s *Server) putSchedule(w http.ResponseWriter, r *http.Request) {
	var sc scheduler.Schedule
	if !decodeBody(w, r, &sc) {
		return
	}
	if err := s.cfg.Scheduler.UpdateSchedule(sc); err != nil {
		s.fail(w, r, err)
		return
	}
	sc = s.cfg.Scheduler.Schedule()
	next, _ := s.cfg.Scheduler.Preview(sc, 5)
	writeJSON(w, http.StatusOK, ScheduleInfo{Schedule: sc, NextRuns: nonNil(next)})
}

func (s *Server) preview(w http.ResponseWriter, r *http.Request) {
	n := 5
	if v := r.URL.Query().Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("n must be a number from 1 to 100, got %q", v), "n")
			return
		}
	}
	var sc scheduler.Schedule
	if !decodeBody(w, r, &sc) {
		return
	}
	next, err := s.cfg.Scheduler.Preview(sc, n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ScheduleInfo{Schedule: sc, NextRuns: nonNil(next)})
}

package control

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"worktray/scheduler"
	"worktray/store"
)

func (s *Server) schedule(w http.ResponseWriter, r *http.Request) {
	si, err := s.scheduleInfo()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, si)
}

// scheduleInfo returns the schedule in force, its next runs and its revision.
func (s *Server) scheduleInfo() (ScheduleInfo, error) {
	rev, err := s.cfg.Store.Revision(store.ScheduleKey)
	if err != nil {
		return ScheduleInfo{}, err
	}
	sc := s.cfg.Scheduler.Schedule()
	next, _ := s.cfg.Scheduler.Preview(sc, 5)
	return ScheduleInfo{Schedule: sc, NextRuns: nonNil(next), Revision: rev}, nil
}

// putSchedule saves and applies a schedule, at the revision of If-Match when given
// (revision.go).
func (s *Server) putSchedule(w http.ResponseWriter, r *http.Request) {
	var sc scheduler.Schedule
	if !decodeBody(w, r, &sc) {
		return
	}
	s.writeSetting(w, r, store.ScheduleKey,
		func(context.Context) (uint64, error) { return s.cfg.Store.Revision(store.ScheduleKey) },
		func(context.Context) (any, error) {
			if err := s.cfg.Scheduler.UpdateSchedule(sc); err != nil {
				return nil, err
			}
			return s.scheduleInfo()
		})
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

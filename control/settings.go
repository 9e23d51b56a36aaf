package control

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"worktray/scheduler"
	"worktray/store"
)

func (s *Server) window(w http.ResponseWriter, r *http.Request) {
	var req WindowRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Window == "" {
		req.Window = "status"
	}
	if !slices.Contains(windows, req.Window) {
		writeError(w, http.StatusBadRequest, codeBadRequest,
			fmt.Sprintf("unknown window %q; one of %s", req.Window, strings.Join(windows, ", ")), "window")
		return
	}
	if s.cfg.Hooks.ShowWindow == nil {
		writeError(w, http.StatusNotImplemented, codeNoWindows, ErrNoWindows.Error(), "")
		return
	}
	if err := s.cfg.Hooks.ShowWindow(req.Window); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"window": req.Window})
}

func (s *Server) portal(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Hooks.Portal == nil {
		notSupported(w, "reading the portal settings")
		return
	}
	info, err := s.cfg.Hooks.Portal(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) setPortal(w http.ResponseWriter, r *http.Request) {
	var in PortalInput
	if !decodeBody(w, r, &in) {
		return
	}
	if s.cfg.Hooks.SetPortal == nil {
		notSupported(w, "changing the portal settings")
		return
	}
	info, err := s.cfg.Hooks.SetPortal(r.Context(), in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) testLogin(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	if s.cfg.Hooks.TestLogin == nil {
		notSupported(w, "testing the portal login")
		return
	}
	if err := s.cfg.Hooks.TestLogin(r.Context()); err != nil {
		class, msg := scheduler.Classify(err)
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error_class": class, "error": msg})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Hooks.Alerts == nil {
		notSupported(w, "reading the alert settings")
		return
	}
	info, err := s.cfg.Hooks.Alerts(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) setAlerts(w http.ResponseWriter, r *http.Request) {
	var in AlertsInput
	if !decodeBody(w, r, &in) {
		return
	}
	if s.cfg.Hooks.SetAlerts == nil {
		notSupported(w, "changing the alert settings")
		return
	}
	info, err := s.cfg.Hooks.SetAlerts(r.Context(), in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) testAlert(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	if s.cfg.Hooks.SendTestAlert == nil {
		notSupported(w, "sending a test alert")
		return
	}
	if err := s.cfg.Hooks.SendTestAlert(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

func (s *Server) retention(w http.ResponseWriter, r *http.Request) {
	ret, err := s.cfg.Store.Retention()
	var ve scheduler.ValidationError
	if err != nil && !errors.As(err, &ve) {
		s.fail(w, r, err)
		return
	}
	// A stored value that no longer validates is shown as it is, for the user to correct.
	writeJSON(w, http.StatusOK, ret)
}

func (s *Server) setRetention(w http.ResponseWriter, r *http.Request) {
	var ret store.Retention
	if !decodeBody(w, r, &ret) {
		return
	}
	if err := s.cfg.Store.SaveRetention(ret); err != nil {
		s.fail(w, r, err)
		return
	}
	if f := s.cfg.Hooks.RetentionChanged; f != nil {
		f()
	}
	writeJSON(w, http.StatusOK, ret)
}

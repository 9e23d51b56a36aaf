package control

import (
	"context"
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

// setPortal validates the input at the boundary (ValidatePortalInput), then has the owner merge,
// validate and save it, at the revision of If-Match when given (revision.go).
func (s *Server) setPortal(w http.ResponseWriter, r *http.Request) {
	var in PortalInput
	if !decodeBody(w, r, &in) {
		return
	}
	if s.cfg.Hooks.SetPortal == nil {
		notSupported(w, "changing the portal settings")
		return
	}
	if err := ValidatePortalInput(in); err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeSetting(w, r, "portal", s.hookRevision(func(ctx context.Context) (uint64, error) {
		info, err := s.cfg.Hooks.Portal(ctx)
		return info.Revision, err
	}, s.cfg.Hooks.Portal != nil), func(ctx context.Context) (any, error) {
		return s.cfg.Hooks.SetPortal(ctx, in)
	})
}

// hookRevision returns get, or with no hook to read the setting a function that says a
// conditional write is not supported.
func (s *Server) hookRevision(get func(context.Context) (uint64, error), ok bool) func(context.Context) (uint64, error) {
	if ok {
		return get
	}
	return func(context.Context) (uint64, error) {
		return 0, fmt.Errorf("a write at a revision: %w", ErrNotSupported)
	}
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

// setAlerts has the owner validate and save a partial update of the alert settings, at the
// revision of If-Match when given (revision.go).
func (s *Server) setAlerts(w http.ResponseWriter, r *http.Request) {
	var in AlertsInput
	if !decodeBody(w, r, &in) {
		return
	}
	if s.cfg.Hooks.SetAlerts == nil {
		notSupported(w, "changing the alert settings")
		return
	}
	s.writeSetting(w, r, "alerts", s.hookRevision(func(ctx context.Context) (uint64, error) {
		info, err := s.cfg.Hooks.Alerts(ctx)
		return info.Revision, err
	}, s.cfg.Hooks.Alerts != nil), func(ctx context.Context) (any, error) {
		return s.cfg.Hooks.SetAlerts(ctx, in)
	})
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
	info, err := s.retentionInfo()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// retentionInfo returns the stored retention with its revision. A stored value that no longer
// validates is returned as it is, for the user to correct.
func (s *Server) retentionInfo() (RetentionInfo, error) {
	ret, err := s.cfg.Store.Retention()
	var ve scheduler.ValidationError
	if err != nil && !errors.As(err, &ve) {
		return RetentionInfo{}, err
	}
	rev, err := s.cfg.Store.Revision(store.RetentionKey)
	if err != nil {
		return RetentionInfo{}, err
	}
	return RetentionInfo{Retention: ret, Revision: rev}, nil
}

// setRetention saves the retention, at the revision of If-Match when given (revision.go), and
// has the owner prune at once.
func (s *Server) setRetention(w http.ResponseWriter, r *http.Request) {
	var ret store.Retention
	if !decodeBody(w, r, &ret) {
		return
	}
	s.writeSetting(w, r, store.RetentionKey,
		func(context.Context) (uint64, error) { return s.cfg.Store.Revision(store.RetentionKey) },
		func(context.Context) (any, error) {
			if err := s.cfg.Store.SaveRetention(ret); err != nil {
				return nil, err
			}
			if f := s.cfg.Hooks.RetentionChanged; f != nil {
				f()
			}
			return s.retentionInfo()
		})
}

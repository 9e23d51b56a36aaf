package control

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	paths := map[string]bool{}
	route := func(method, path string, h http.HandlerFunc) {
		mux.HandleFunc(method+" "+path, h)
		if !paths[path] {
			paths[path] = true
			mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
				writeError(w, http.StatusMethodNotAllowed, codeMethod, fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path), "")
			})
		}
	}
	route("GET", "/api/status", s.status)
	route("POST", "/api/scrape", s.scrape)
	route("POST", "/api/cancel", s.cancel)
	route("POST", "/api/pause", s.pause)
	route("POST", "/api/resume", s.resume)
	route("GET", "/api/history", s.history)
	route("GET", "/api/runs/{id}", s.run)
	route("GET", "/api/orders", s.orders)
	route("GET", "/api/orders/{id}", s.order)
	route("GET", "/api/orders/{id}/history", s.orderHistory)
	route("POST", "/api/marks/seen", s.markSeen)
	route("GET", "/api/schedule", s.schedule)
	route("PUT", "/api/schedule", s.putSchedule)
	route("POST", "/api/schedule/preview", s.preview)
	route("GET", "/api/events", s.events)
	route("POST", "/api/window", s.window)
	route("GET", "/api/scheduler/health", s.health)
	route("POST", "/api/backup", s.backup)
	route("POST", "/api/diagnose", s.diagnose)
	route("GET", "/api/portal", s.portal)
	route("PUT", "/api/portal", s.setPortal)
	route("POST", "/api/portal/test", s.testLogin)
	route("POST", "/api/profile/test", s.testProfile)
	route("GET", "/api/alerts", s.alerts)
	route("PUT", "/api/alerts", s.setAlerts)
	route("POST", "/api/alerts/test", s.testAlert)
	route("GET", "/api/alerts/outbox", s.alertsOutbox)
	route("GET", "/api/retention", s.retention)
	route("PUT", "/api/retention", s.setRetention)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, codeNotFound, "no such endpoint: "+r.URL.Path, "")
	})
	return s.logged(withDeadline(time.Now, s.log, mux))
}

// logged logs each request at debug level with the peer's pid.
func (s *Server) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.log.Enabled(r.Context(), slog.LevelDebug) {
			attrs := []any{"method", r.Method, "path", r.URL.Path}
			if c, ok := peerFrom(r.Context()); ok {
				attrs = append(attrs, "peer_pid", c.Pid)
			}
			s.log.Debug("control request", attrs...)
		}
		h.ServeHTTP(w, r)
	})
}

package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"worktray/scheduler"
	"worktray/store"
)

// Scheduler is what the server needs from the scheduler; *scheduler.Service implements it.
type Scheduler interface {
	Snapshot() scheduler.Snapshot
	ScrapeNow(ctx context.Context) (scheduler.Run, error)
	// CheckNow runs the wall-clock check at once: a due or overdue slot starts and is claimed
	// (it never runs again). It returns the run in progress afterwards, or nil, and
	// scheduler.ErrNotStarted while the scheduler is starting or stopping.
	CheckNow() (*scheduler.Run, error)
	Cancel() error
	Pause() error
	Resume() error
	Schedule() scheduler.Schedule
	UpdateSchedule(scheduler.Schedule) error
	Preview(scheduler.Schedule, int) ([]time.Time, error)
	Subscribe(buffer int) *scheduler.Subscription
}

// Store is what the server reads from the store; *store.DB implements it.
type Store interface {
	Runs(q store.RunQuery) ([]scheduler.Run, error)
	Run(id uint64) (scheduler.Run, error)
	RunBySlot(slot time.Time) (scheduler.Run, error)
	Orders(includeRemoved bool) ([]scheduler.Order, error)
	RunningRuns() ([]scheduler.Run, error)
	Backup(ctx context.Context, path string) error
	Check() error
	Retention() (store.Retention, error)
	SaveRetention(store.Retention) error
}

// Hooks are the parts of the owner the control API calls but does not implement: the windows,
// the portal and alert settings with their secrets, and the checks of the browser and profile.
// A nil hook makes its route answer 501 (code not_supported, or no_windows for ShowWindow).
// Every hook may be called concurrently and must honour ctx.
type Hooks struct {
	// ShowWindow shows (or raises) the named window: status, history, orders or settings. Nil
	// for a headless owner. Return ErrNoWindows when there is no desktop to show it on.
	ShowWindow func(name string) error
	// Portal returns the portal configuration (never the password).
	Portal func(ctx context.Context) (PortalInfo, error)
	// SetPortal validates and saves the portal configuration; empty fields and a nil password
	// keep what is stored. An invalid value returns a scheduler.ValidationError naming the field
	// (url, profile, username) and changes nothing.
	SetPortal func(ctx context.Context, in PortalInput) (PortalInfo, error)
	// TestLogin signs in to the portal with the saved configuration, in a browser of its own.
	// Return a *scheduler.RunError so the client can say what is wrong.
	TestLogin func(ctx context.Context) error
	// TestProfile signs in with the saved account and reads the first list pages and a few
	// detail pages with the configured profile (or in.File), storing nothing; report is a
	// scraper.ProfileReport (also on failure, as far as it got), err a *scheduler.RunError.
	// The settings window's "Test profile" button and `worktray profile test` call it.
	TestProfile func(ctx context.Context, in ProfileTestInput) (report any, err error)
	// Alerts returns the alert settings (notify.Settings) and whether the Pushover keys are set;
	// never the keys.
	Alerts func(ctx context.Context) (AlertsInfo, error)
	// SetAlerts validates and saves the alert settings (notify.Settings) and the Pushover keys.
	// An invalid value returns a scheduler.ValidationError naming the field and changes nothing.
	SetAlerts func(ctx context.Context, in AlertsInput) (AlertsInfo, error)
	// SendTestAlert sends a test message through every enabled channel.
	SendTestAlert func(ctx context.Context) error
	// Diagnostics checks what only the owner's parts know: Chromium found and its version, the
	// profile valid, credentials present (never shown), the alert keys.
	Diagnostics func(ctx context.Context) []Check
	// FailureThreshold is how many consecutive failures make the health endpoint answer 503;
	// nil or a result below 1 means 2.
	FailureThreshold func() int
	// RetentionChanged is called after PUT /api/retention saved a new retention, so the owner
	// prunes the run history at once. It must not block; nil does nothing.
	RetentionChanged func()
}

// Config configures a Server.
type Config struct {
	Scheduler Scheduler // required
	Store     Store     // required
	Owner     OwnerInfo
	Hooks     Hooks
	Logger    *slog.Logger
	// EventBuffer is how many events a slow event-stream client may fall behind before it loses
	// events. Default 256.
	EventBuffer int
	// WriteTimeout bounds each write to an event-stream client; a client that stops reading is
	// disconnected. Default 10 s.
	WriteTimeout time.Duration
}

// Server serves the control API. It renders snapshots of the scheduler and passes commands to
// it; the truth lives in the scheduler and the store. Safe for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger
	api http.Handler
}

// NewServer returns a server over cfg. It starts nothing; Serve does.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Scheduler == nil || cfg.Store == nil {
		return nil, errors.New("control: a scheduler and a store are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.EventBuffer <= 0 {
		cfg.EventBuffer = 256
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	s.api = s.routes()
	return s, nil
}

// Handler returns the control API's HTTP handler.
func (s *Server) Handler() http.Handler { return s.api }

// Serve serves the control API on l (from Listen) until ctx is done, then closes l and waits up
// to five seconds for requests in flight; event streams end at once. It blocks.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	s.log.Info("control socket listening", "socket", l.Addr().String())
	return serveHTTP(ctx, l, s.api, s.log)
}

// ServeHealth serves only GET /api/scheduler/health on l (from ListenHealth) until ctx is done.
// The endpoint has no authentication and any local user (or a web page, through DNS rebinding)
// can reach it, so it answers a reduced verdict (PublicHealth: no run record, no error text) and
// refuses, with 400, a request whose Host header is not a loopback name or address. It blocks.
func (s *Server) ServeHealth(ctx context.Context, l net.Listener) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/scheduler/health", s.publicHealth)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, codeNotFound, "only GET /api/scheduler/health is served here", "")
	})
	s.log.Info("health endpoint listening", "addr", "http://"+l.Addr().String()+"/api/scheduler/health")
	return serveHTTP(ctx, l, loopbackHostOnly(mux), s.log)
}

// loopbackHostOnly answers 400 to a request whose Host header does not name a loopback host: a
// page of another site that rebinds its name to 127.0.0.1 still sends its own name.
func loopbackHostOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			writeError(w, http.StatusBadRequest, codeBadRequest,
				fmt.Sprintf("host %q is not a loopback name or address", r.Host), "")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether the Host header host (with or without a port) is localhost or a
// loopback address.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func serveHTTP(ctx context.Context, l net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnContext:       connContext,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving %s: %w", l.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	<-errc
	return nil
}

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
	route("GET", "/api/retention", s.retention)
	route("PUT", "/api/retention", s.setRetention)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, codeNotFound, "no such endpoint: "+r.URL.Path, "")
	})
	return s.logged(mux)
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

func (s *Server) statusValue() Status {
	owner := s.cfg.Owner
	return Status{Snapshot: s.cfg.Scheduler.Snapshot(), Owner: &owner}
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

func (s *Server) orders(w http.ResponseWriter, r *http.Request) {
	removed, ok := boolParam(w, r, "removed")
	if !ok {
		return
	}
	orders, err := s.cfg.Store.Orders(removed)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, OrdersResponse{Orders: nonNil(orders)})
}

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

// EventDropped is the kind of the stream line that says the client fell behind and lost events
// (a scheduler.Event with only Kind and At set, and Dropped in StreamEvent). A client should
// re-read the status.
const EventDropped scheduler.EventKind = "events_dropped"

// StreamEvent is one line of GET /api/events.
type StreamEvent struct {
	scheduler.Event
	Dropped int64 `json:"dropped,omitempty"` // for EventDropped: events lost so far
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	sub := s.cfg.Scheduler.Subscribe(s.cfg.EventBuffer)
	defer sub.Close()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	enc := json.NewEncoder(w)
	var dropped int64
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-sub.C:
			if !ok {
				return
			}
			_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
			if d := sub.Dropped(); d != dropped {
				dropped = d
				if err := enc.Encode(StreamEvent{Event: scheduler.Event{Kind: EventDropped, At: time.Now().UTC()}, Dropped: d}); err != nil {
					return
				}
			}
			if err := enc.Encode(StreamEvent{Event: ev}); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}

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

// HealthOf judges a snapshot: unhealthy when a slot is overdue, slots were missed with no
// success since, or the last threshold runs (or more) failed. Paused is healthy. It does no I/O.
func HealthOf(snap scheduler.Snapshot, threshold int) Health {
	return healthOf(snap, threshold, true)
}

// healthOf is HealthOf; without detail, the problems leave out the text of the last error,
// which may name the portal or the user's data.
func healthOf(snap scheduler.Snapshot, threshold int, detail bool) Health {
	h := Health{Healthy: true, Status: "ok", Now: snap.Now, Paused: snap.Paused, Next: snap.Next,
		LastRun: snap.LastRun, OverdueSlot: snap.OverdueSlot,
		ConsecutiveFailures: snap.ConsecutiveFailures, FailureThreshold: threshold}
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
			msg += fmt.Sprintf(" (%s: %s)", snap.LastErrorClass, snap.LastError)
		case snap.LastErrorClass != "":
			msg += fmt.Sprintf(" (%s)", snap.LastErrorClass)
		}
		bad("failing", msg)
	}
	if h.Healthy && snap.Paused {
		h.Status = "paused"
	}
	return h
}

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
			Fix: "stop worktray, restore a backup (worktray backup makes one) or move the store away"})
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

func notSupported(w http.ResponseWriter, what string) {
	writeError(w, http.StatusNotImplemented, codeNotSupported, what+" is not supported by the running worktray", "")
}

// fail turns an error into its response, logging unexpected ones once here.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		ve scheduler.ValidationError
		fe *scheduler.FieldError
	)
	switch {
	case errors.As(err, &ve):
		body := errorBody{Error: ve.Error(), Code: codeInvalid}
		for _, f := range ve {
			body.Fields = append(body.Fields, fieldError{Field: f.Field, Error: f.Msg})
		}
		if len(ve) > 0 {
			body.Field = ve[0].Field
		}
		writeJSON(w, http.StatusUnprocessableEntity, body)
	case errors.As(err, &fe):
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: fe.Error(), Code: codeInvalid, Field: fe.Field,
			Fields: []fieldError{{Field: fe.Field, Error: fe.Msg}}})
	case errors.Is(err, scheduler.ErrAlreadyRunning):
		writeError(w, http.StatusConflict, codeAlreadyRunning, err.Error(), "")
	case errors.Is(err, scheduler.ErrNotRunning):
		writeError(w, http.StatusConflict, codeNotRunning, err.Error(), "")
	case errors.Is(err, scheduler.ErrNotFound):
		writeError(w, http.StatusNotFound, codeNotFound, err.Error(), "")
	case errors.Is(err, scheduler.ErrNotStarted):
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, err.Error(), "")
	case errors.Is(err, ErrNoWindows):
		writeError(w, http.StatusNotImplemented, codeNoWindows, err.Error(), "")
	case errors.Is(err, ErrNotSupported):
		writeError(w, http.StatusNotImplemented, codeNotSupported, err.Error(), "")
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
	default:
		s.log.Error("control request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, codeInternal, err.Error(), "")
	}
}

// maxBody bounds a request body.
const maxBody = 1 << 20

// decodeBody decodes exactly one JSON value with no unknown fields into v. On failure it
// answers 400 and returns false; nothing has been changed then.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := "malformed JSON: " + err.Error()
		if errors.Is(err, io.EOF) {
			msg = "the request needs a JSON body"
		}
		field := ""
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			field = ute.Field
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			field = strings.Trim(f, `"`)
		}
		writeError(w, http.StatusBadRequest, codeBadRequest, msg, field)
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, codeBadRequest, "malformed JSON: more than one value in the body", "")
		return false
	}
	return true
}

// emptyBody accepts a command with no body (or an empty JSON object) and answers 400 otherwise.
func emptyBody(w http.ResponseWriter, r *http.Request) bool {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, "reading the body: "+err.Error(), "")
		return false
	}
	if t := strings.TrimSpace(string(data)); t != "" && t != "{}" {
		writeError(w, http.StatusBadRequest, codeBadRequest, "this command takes no body", "")
		return false
	}
	return true
}

func boolParam(w http.ResponseWriter, r *http.Request, name string) (bool, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, true
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("%s must be true or false, got %q", name, v), name)
		return false, false
	}
	return b, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data, _ = json.Marshal(errorBody{Error: "encoding the answer: " + err.Error(), Code: codeInternal})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

func writeError(w http.ResponseWriter, status int, code, msg, field string) {
	writeJSON(w, status, errorBody{Error: msg, Code: code, Field: field})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
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
	// Revision returns a setting's revision (store.ScheduleKey, store.RetentionKey, …).
	Revision(key string) (uint64, error)

	// The work orders' details, change history and new/changed marks (orders.go).
	Order(portalID string) (scheduler.Order, error)
	OrderByNumber(number string) (scheduler.Order, error)
	OrderHistory(portalID string) ([]scheduler.OrderChange, error)
	MarkSeen(portalIDs ...string) (int, error)
	MarkAllSeen() (int, error)
	// The alert outbox and the delivery state (alerts.go).
	PendingAlerts(limit int) ([]scheduler.Alert, error)
	SentAlerts(limit int) ([]store.SentAlert, error)
	AlertDelivery() (scheduler.AlertDelivery, error)
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
	// Heartbeat is how often an idle event stream sends an empty line. Default Heartbeat (2 s).
	Heartbeat time.Duration
}

// Server serves the control API. It renders snapshots of the scheduler and passes commands to
// it; the truth lives in the scheduler and the store. Safe for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger
	api http.Handler
	// settingsMu serializes the settings writes, each with its revision check (revision.go).
	settingsMu sync.Mutex
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
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = Heartbeat
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
